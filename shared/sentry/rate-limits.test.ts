import { describe, expect, it } from "vitest";
import {
  formatRateLimits,
  isLimited,
  parseRateLimits,
  rateLimitHeaders,
  retryAfterSeconds,
} from "./rate-limits";

describe("X-Sentry-Rate-Limits", () => {
  it("formats Relay's documented example exactly", () => {
    const limits = [
      { retryAfterSeconds: 60, categories: ["transaction"], scope: "key" as const },
      {
        retryAfterSeconds: 2700,
        categories: ["default", "error", "security"],
        scope: "organization" as const,
        reasonCode: "quota_exceeded",
      },
    ];
    expect(formatRateLimits(limits)).toBe(
      "60:transaction:key, 2700:default;error;security:organization:quota_exceeded",
    );
    expect(rateLimitHeaders(limits)).toEqual({
      "X-Sentry-Rate-Limits": "60:transaction:key, 2700:default;error;security:organization:quota_exceeded",
      "Retry-After": "2700",
    });
  });

  it("uses empty categories for all, rounds seconds up and delimits namespaces", () => {
    expect(formatRateLimits([{ retryAfterSeconds: 0.2, categories: [], scope: "project" }])).toBe(
      "1::project",
    );
    expect(
      formatRateLimits([
        {
          retryAfterSeconds: 5,
          categories: ["metric_bucket"],
          scope: "organization",
          namespaces: ["custom"],
        },
      ]),
    ).toBe("5:metric_bucket:organization::custom");
  });

  it("computes Retry-After from the longest limit, none when empty", () => {
    expect(retryAfterSeconds([])).toBeNull();
    expect(rateLimitHeaders([])).toEqual({});
    expect(
      retryAfterSeconds([
        { retryAfterSeconds: 10.5, categories: [], scope: "key" },
        { retryAfterSeconds: 3, categories: [], scope: "key" },
      ]),
    ).toBe(11);
  });

  it("parses what it formats, and junk retry values as 60 s like SDKs", () => {
    const header = "60:transaction:key, 2700:default;error;security:organization:quota_exceeded, 5::project";
    expect(formatRateLimits(parseRateLimits(header))).toBe(header);
    expect(parseRateLimits("soon:error:key")[0]!.retryAfterSeconds).toBe(60);
    expect(parseRateLimits("")).toEqual([]);
  });

  it("decides which categories are limited; client reports never are", () => {
    const limits = parseRateLimits("60:transaction:key");
    expect(isLimited(limits, "transaction")).toBe(true);
    expect(isLimited(limits, "error")).toBe(false);
    expect(isLimited(parseRateLimits("60::key"), "error")).toBe(true);
    expect(isLimited(parseRateLimits("60::key"), "internal")).toBe(false);
    expect(isLimited(parseRateLimits("60::key"), null)).toBe(false);
  });
});
