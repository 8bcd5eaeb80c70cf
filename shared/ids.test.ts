import { describe, expect, it } from "vitest";
import { eventIdTime, newEventId, normalizeUuid } from "./ids";

describe("event ids", () => {
  it("are 32 hex chars, time-sortable and decode their time", () => {
    const a = newEventId(1_700_000_000_000);
    const b = newEventId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a < b).toBe(true);
    expect(eventIdTime(a)).toBe(1_700_000_000_000);
  });
  it("normalizes dashed and upper-case uuids and rejects junk", () => {
    expect(normalizeUuid("E12D836B-15BB-49D7-BBF9-9E64295D995B")).toBe("e12d836b15bb49d7bbf99e64295d995b");
    expect(normalizeUuid("nope")).toBeNull();
    expect(normalizeUuid(42)).toBeNull();
  });
});

describe("event id uniqueness", () => {
  it("never repeats within an isolate, even in the same millisecond", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
