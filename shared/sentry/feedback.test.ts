// Reading Sentry user feedback: both shapes, ids normalized, fields trimmed and bounded, and
// anything without a comment refused (the processor then counts it invalid).
import { describe, expect, it } from "vitest";
import { parseFeedbackEvent, parseUserReport } from "./feedback";

const ID = "0123456789abcdef0123456789abcdef";
const DASHED = "01234567-89ab-cdef-0123-456789abcdef";

describe("parseUserReport", () => {
  it("reads a user_report item", () => {
    expect(
      parseUserReport({ event_id: DASHED, name: " Ada ", email: "ada@example.com", comments: "broke" }),
    ).toEqual({
      id: null,
      eventId: ID,
      name: "Ada",
      email: "ada@example.com",
      message: "broke",
      url: null,
      source: "user_report",
    });
  });

  it("refuses one without comments, and ignores fields of the wrong type", () => {
    for (const bad of [null, [], "x", {}, { comments: "  " }, { comments: 5 }, { comments: { a: 1 } }])
      expect(() => parseUserReport(bad)).toThrow(/user_report/);
    expect(parseUserReport({ event_id: "nope", name: 7, email: {}, comments: "ok" })).toMatchObject({
      eventId: null,
      name: null,
      email: null,
    });
  });

  it("bounds every field", () => {
    const f = parseUserReport({ name: "n".repeat(10_000), comments: "c".repeat(100_000) });
    expect(f.name).toHaveLength(256);
    expect(f.message).toHaveLength(4096);
  });
});

describe("parseFeedbackEvent", () => {
  it("reads contexts.feedback, falling back to the event's user", () => {
    expect(
      parseFeedbackEvent({
        event_id: ID,
        user: { username: "ada", email: "u@example.com" },
        contexts: { feedback: { message: "hi", url: "https://x.example/", associated_event_id: DASHED } },
      }),
    ).toEqual({
      id: ID,
      eventId: ID,
      name: "ada",
      email: "u@example.com",
      message: "hi",
      url: "https://x.example/",
      source: "feedback",
    });
  });

  it("refuses an event without a feedback message", () => {
    for (const bad of [
      null,
      {},
      { contexts: {} },
      { contexts: { feedback: [] } },
      { contexts: { feedback: {} } },
    ])
      expect(() => parseFeedbackEvent(bad)).toThrow(/feedback/);
  });
});
