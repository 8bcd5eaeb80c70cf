import { describe, expect, it } from "vitest";
import { decideQuota, secondsUntilNextMinute } from "./quota";

const MIN = 1_700_000_040_000; // a minute boundary
const now = MIN + 45_500; // 14.5 s before the next minute

describe("decideQuota", () => {
  it("has no limit with both limits off", () => {
    const d = decideQuota(
      { rateLimitPerMinute: null, spikeProtection: false },
      { acceptedThisMinute: 1e9, avgPerMinuteOver24h: 0, now },
    );
    expect(d).toEqual({ allowed: true, limit: null, retryAfterSeconds: 15, reason: null });
  });
  it("applies the spike limit (max 50, 5 × avg)", () => {
    const s = { rateLimitPerMinute: null, spikeProtection: true };
    expect(decideQuota(s, { acceptedThisMinute: 49, avgPerMinuteOver24h: 2, now }).allowed).toBe(true);
    const d = decideQuota(s, { acceptedThisMinute: 50, avgPerMinuteOver24h: 2, now });
    expect(d).toEqual({ allowed: false, limit: 50, retryAfterSeconds: 15, reason: "spike_protection" });
    expect(decideQuota(s, { acceptedThisMinute: 499, avgPerMinuteOver24h: 100, now }).allowed).toBe(true);
  });
  it("names the smaller limit, the configured one on a tie", () => {
    const s = { rateLimitPerMinute: 100, spikeProtection: true };
    expect(decideQuota(s, { acceptedThisMinute: 100, avgPerMinuteOver24h: 1000, now }).reason).toBe(
      "rate_limit",
    );
    expect(decideQuota(s, { acceptedThisMinute: 60, avgPerMinuteOver24h: 5, now })).toMatchObject({
      allowed: false,
      limit: 50,
      reason: "spike_protection",
    });
    expect(decideQuota(s, { acceptedThisMinute: 0, avgPerMinuteOver24h: 20, now }).reason).toBe("rate_limit");
  });
  it("counts the request's quantity", () => {
    const s = { rateLimitPerMinute: 10, spikeProtection: false };
    expect(decideQuota(s, { acceptedThisMinute: 5, avgPerMinuteOver24h: 0, now, quantity: 5 }).allowed).toBe(
      true,
    );
    expect(decideQuota(s, { acceptedThisMinute: 5, avgPerMinuteOver24h: 0, now, quantity: 6 }).allowed).toBe(
      false,
    );
  });
  it("retries when the minute ends, at least 1 s", () => {
    expect(secondsUntilNextMinute(MIN)).toBe(60);
    expect(secondsUntilNextMinute(MIN + 59_999)).toBe(1);
    expect(secondsUntilNextMinute(MIN + 30_000)).toBe(30);
  });
});
