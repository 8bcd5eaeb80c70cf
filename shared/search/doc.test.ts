import { describe, expect, it } from "vitest";
import type { SearchDoc } from "../queue-message";
import { corpusDoc } from "./conformance";
import { isoTime, MAX_TIME, prepareDoc } from "./doc";

const withTime = (occurredAt: unknown, over: Partial<SearchDoc> = {}) =>
  prepareDoc({ ...corpusDoc(1), ...over, occurredAt } as SearchDoc);

describe("prepareDoc", () => {
  it.each([
    ["past Date's range", 1e16],
    ["Date's very limit, a 6-digit year", 8.64e15],
    ["the year 10000", Date.UTC(10_000, 0, 1)],
    ["a 6-digit ISO year", "+010000-01-01T00:00:00.000Z"],
    ["a negative year", "-000001-01-01T00:00:00.000Z"],
    ["before 1970", -1],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["not a date", "yesterday-ish"],
  ])("dead-letters an occurredAt %s", (_what, value) => {
    expect(withTime(value)).toEqual({ dead: "invalid document: occurredAt" });
  });

  it.each([
    ["1970-01-01", 0],
    ["the last ms of 9999", MAX_TIME],
    ["an ISO string", "2024-01-31T23:59:00.000Z"],
  ])("accepts an occurredAt at %s", (_what, value) => {
    const doc = withTime(value);
    expect(doc).not.toHaveProperty("dead");
    expect(isoTime((doc as { occurredAt: number }).occurredAt)).toMatch(/^\d{4}-/);
  });

  it("falls back to occurredAt for an out-of-range receivedAt", () => {
    const doc = withTime("2024-01-01T00:00:00.000Z", { receivedAt: 1e16 as unknown as string });
    expect(doc).toMatchObject({ occurredAt: Date.UTC(2024, 0, 1), receivedAt: Date.UTC(2024, 0, 1) });
  });

  it("dead-letters, never throws on, a doc it cannot read (v8 queue bodies can hold these)", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const tags of [{ a: cyclic }, { a: { n: 1n } }]) {
      const doc = { ...corpusDoc(1), tags } as unknown as SearchDoc;
      expect(prepareDoc(doc)).toEqual({ dead: expect.stringMatching(/^invalid document: TypeError/) });
    }
  });

  it('formats stored times as ISO, or "" for a value out of Date\'s range', () => {
    expect(isoTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(isoTime(1e16)).toBe("");
    expect(isoTime(Number.NaN)).toBe("");
  });
});
