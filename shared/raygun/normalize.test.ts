// Raygun's occurredOn is clamped like a Sentry timestamp (Relay's rule): more than 60 s ahead of
// the receive time, or older than the project's retention, it becomes the receive time, so no
// group is kept out of retention's reach and no year 0–99 reads as 1900–1999.
import { describe, expect, it } from "vitest";
import { normalizeRaygunReport } from "./normalize";

const RECEIVED = Date.UTC(2026, 0, 15, 12, 0, 0);
const ctx = {
  eventId: "e".repeat(32),
  projectId: "1",
  receivedAt: RECEIVED,
  client: { ip: null, userAgent: null, country: null, colo: null },
  retentionDays: 30,
};
const occurredAt = (occurredOn: string, retentionDays = 30) =>
  normalizeRaygunReport(
    { occurredOn, details: { error: { className: "E", message: "m" } } },
    { ...ctx, retentionDays },
  );

describe("Raygun occurredOn", () => {
  it.each([
    ["9999-12-31T23:59:59Z", "future_timestamp"],
    ["2026-01-15T12:01:01Z", "future_timestamp"], // 61 s ahead
    ["0000-01-01T00:00:00Z", "past_timestamp"], // Date.UTC reads year 0 as 1900
    ["1000-06-01T00:00:00Z", "past_timestamp"],
    ["2025-12-15T11:59:59Z", "past_timestamp"], // just older than the 30-day retention
  ])("clamps %s to the receive time (%s)", (occurredOn, kind) => {
    const e = occurredAt(occurredOn);
    expect(e.occurredAt).toBe(new Date(RECEIVED).toISOString());
    expect(e.normalization).toMatchObject({ timestamp_error: { type: kind } });
  });

  it.each([
    ["2026-01-15T12:01:00Z"], // 60 s ahead: network and clocks, not an error
    ["2026-01-15T11:00:00.123Z"],
    ["2025-12-16T12:00:01Z"], // within the retention
  ])("keeps %s", (occurredOn) => {
    const e = occurredAt(occurredOn);
    expect(e.occurredAt).toBe(new Date(occurredOn).toISOString());
    expect(e.normalization).toBeUndefined();
  });

  it("bounds the past by the project's retention", () => {
    expect(occurredAt("2025-12-01T00:00:00Z", 90).occurredAt).toBe("2025-12-01T00:00:00.000Z");
    expect(occurredAt("2025-12-01T00:00:00Z", 30).occurredAt).toBe(new Date(RECEIVED).toISOString());
  });
});

describe("Raygun occurredOn through normalizeParsed", () => {
  it("takes the retention from the item's policy (the processor and the console alike)", async () => {
    const { normalizeParsed } = await import("../normalize");
    const report = {
      occurredOn: "2025-12-01T00:00:00Z",
      details: { error: { className: "E", message: "m" } },
    };
    const subject = (retentionDays: number) => ({
      ...ctx,
      protocol: "raygun",
      itemType: "entry",
      policy: { scrubbing: { defaults: true, scrubIpAddresses: false, sensitiveFields: [] }, retentionDays },
    });
    expect(normalizeParsed(subject(90), report)!.occurredAt).toBe("2025-12-01T00:00:00.000Z");
    expect(normalizeParsed(subject(30), report)!.occurredAt).toBe(new Date(RECEIVED).toISOString());
  });
});
