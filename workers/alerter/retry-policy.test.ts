import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_DELAYS, nextDelay, retryAfterSeconds, retryDelays } from "./retry-policy";

describe("alert retry policy", () => {
  it("backs off by the configured delays, then gives up", () => {
    const d = retryDelays("1,5");
    expect([nextDelay(d, 1, null), nextDelay(d, 2, null), nextDelay(d, 3, null)]).toEqual([1, 5, null]);
    expect(retryDelays(undefined)).toEqual(DEFAULT_RETRY_DELAYS);
    expect(retryDelays("a,b")).toEqual(DEFAULT_RETRY_DELAYS);
  });

  it("honours a longer Retry-After (seconds or HTTP date), capped at an hour", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds(new Date(now + 90_000).toUTCString(), now)).toBe(90);
    expect(retryAfterSeconds("999999", now)).toBe(3600);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(nextDelay([10, 30], 1, 120)).toBe(120);
    expect(nextDelay([10, 30], 1, 2)).toBe(10);
    expect(nextDelay([10, 30], 3, 120)).toBeNull();
  });
});
