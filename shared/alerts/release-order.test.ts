import { describe, expect, it } from "vitest";
import { isLaterRelease, releaseKey } from "./release-order";

describe("release order", () => {
  it("compares numbers numerically", () => {
    expect(isLaterRelease("1.10.0", "1.9.2")).toBe(true);
    expect(isLaterRelease("shop@2.0.0", "shop@1.99.99")).toBe(true);
    expect(isLaterRelease("1.9.2", "1.10.0")).toBe(false);
    expect(isLaterRelease("1.4.0", "1.4.0")).toBe(false);
    expect(isLaterRelease("v007", "v7")).toBe(false);
  });

  it("never treats an event without a release as later", () => {
    expect(isLaterRelease(null, "1.0.0")).toBe(false);
    expect(isLaterRelease("", "1.0.0")).toBe(false);
  });

  it("keeps order for numbers longer than the padding", () => {
    expect(releaseKey("1234567890123456") > releaseKey("999999999999")).toBe(true);
  });
});
