import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import { itemJson, parseEnvelope } from "./envelope";
import { type FixtureName, fixtureBytes } from "./fixtures";
import { MAX_ITEM_COUNT, parseClientReport, parseSessionAggregates, parseSessionUpdate } from "./items";

const payloadOf = (name: FixtureName) => itemJson(parseEnvelope(fixtureBytes(name)).items[0]!);
const base = {
  sid: "030f10b3b779419bb77507af4ef32f6b",
  started: "2026-01-15T12:00:42.500Z",
  attrs: { release: "app@1", environment: "prod" },
};
const MINUTE = Date.UTC(2026, 0, 15, 12, 0);

function badRequestCause(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    expect((e as ClientError).status).toBe(400);
    return (e as ClientError).causes.join("; ");
  }
  throw new Error("expected a 400");
}

describe("session updates", () => {
  it("real node session (init + exited) counts one started and one healthy exit", () => {
    const [d] = parseSessionUpdate(payloadOf("node-session"));
    expect(d).toMatchObject({
      release: "capture@1.0.0",
      environment: "capture",
      started: 1,
      exited: 1,
      errored: 0,
    });
    expect(d!.minute % 60_000).toBe(0);
  });

  it("real node session with an error but still ok counts only the start", () => {
    expect(parseSessionUpdate(payloadOf("node-session-errored"))).toMatchObject([
      { started: 1, exited: 0, errored: 0 },
    ]);
  });

  it("terminal statuses land in exactly one bucket, by the start minute", () => {
    const d = (p: object) => parseSessionUpdate({ ...base, ...p })[0];
    expect(d({ status: "exited", errors: 2 })).toEqual({
      release: "app@1",
      environment: "prod",
      minute: MINUTE,
      started: 0,
      exited: 0,
      errored: 1,
      crashed: 0,
      abnormal: 0,
    });
    expect(d({ status: "crashed", errors: 1 })).toMatchObject({ crashed: 1, errored: 0 });
    expect(d({ status: "abnormal" })).toMatchObject({ abnormal: 1 });
    expect(d({ status: "errored" })).toMatchObject({ errored: 1 });
    expect(parseSessionUpdate({ ...base, status: "ok" })).toEqual([]);
    expect(parseSessionUpdate({ ...base, init: true, started: 1768478442.5 })[0]!.minute).toBe(MINUTE);
  });

  it("rejects bad shapes with a clear cause", () => {
    expect(badRequestCause(() => parseSessionUpdate([]))).toMatch(/JSON object/);
    expect(badRequestCause(() => parseSessionUpdate({ ...base, sid: undefined }))).toMatch(/sid/);
    expect(badRequestCause(() => parseSessionUpdate({ ...base, started: "nope" }))).toMatch(/started/);
    expect(badRequestCause(() => parseSessionUpdate({ ...base, attrs: {} }))).toMatch(/release/);
    expect(badRequestCause(() => parseSessionUpdate({ ...base, errors: "1" }))).toMatch(/errors/);
  });
});

describe("session aggregates", () => {
  it("real node aggregates: three healthy request sessions", () => {
    const deltas = parseSessionAggregates(payloadOf("node-sessions"));
    expect(deltas).toHaveLength(1);
    expect(deltas[0]).toMatchObject({
      release: "capture@1.0.0",
      started: 3,
      exited: 3,
      errored: 0,
      crashed: 0,
    });
  });

  it("sums outcomes into starts per bucket and skips empty buckets", () => {
    const deltas = parseSessionAggregates({
      aggregates: [
        { started: "2026-01-15T12:00:00Z", exited: 5, errored: 2, crashed: 1, abnormal: 1 },
        { started: "2026-01-15T12:01:00Z" },
      ],
      attrs: { release: "r" },
    });
    expect(deltas).toEqual([
      {
        release: "r",
        environment: null,
        minute: MINUTE,
        started: 9,
        exited: 5,
        errored: 2,
        crashed: 1,
        abnormal: 1,
      },
    ]);
  });

  it("rejects bad shapes", () => {
    expect(badRequestCause(() => parseSessionAggregates({ aggregates: [] }))).toMatch(/attrs/);
    expect(badRequestCause(() => parseSessionAggregates({ attrs: { release: "r" } }))).toMatch(/aggregates/);
    expect(
      badRequestCause(() => parseSessionAggregates({ attrs: { release: "r" }, aggregates: [{}] })),
    ).toMatch(/aggregates\[0\]\.started/);
  });
});

describe("client reports", () => {
  it("real node client report: two errors dropped by beforeSend", () => {
    expect(parseClientReport(payloadOf("node-client-report"))).toEqual([
      { reason: "before_send", category: "error", quantity: 2 },
    ]);
  });

  it("skips zero quantities and accepts a report without discards", () => {
    expect(parseClientReport({ discarded_events: [{ reason: "r", category: "c", quantity: 0 }] })).toEqual(
      [],
    );
    expect(parseClientReport({ timestamp: 1 })).toEqual([]);
  });

  it("rejects bad shapes", () => {
    expect(badRequestCause(() => parseClientReport("x"))).toMatch(/JSON object/);
    expect(badRequestCause(() => parseClientReport({ discarded_events: {} }))).toMatch(/array/);
    expect(
      badRequestCause(() =>
        parseClientReport({ discarded_events: [{ reason: "r", category: "c", quantity: 1.5 }] }),
      ),
    ).toMatch(/discarded_events\[0\]/);
  });
});

describe("counts are bounded (D1's sum() fails on 64-bit overflow, and with it the batch)", () => {
  it("clamps aggregate buckets and client report quantities to MAX_ITEM_COUNT", () => {
    const [d] = parseSessionAggregates({
      attrs: { release: "1.0" },
      aggregates: [{ started: "2024-01-01T00:00:00Z", exited: 5e18, errored: 7, crashed: 1e300 }],
    });
    expect(d).toMatchObject({ exited: MAX_ITEM_COUNT, errored: 7, crashed: MAX_ITEM_COUNT });
    expect(d!.started).toBe(2 * MAX_ITEM_COUNT + 7);
    expect(MAX_ITEM_COUNT).toBe(1_000_000);
    expect(
      parseClientReport({
        discarded_events: [{ reason: "queue_overflow", category: "error", quantity: 5e18 }],
      }),
    ).toEqual([{ reason: "queue_overflow", category: "error", quantity: MAX_ITEM_COUNT }]);
  });
});
