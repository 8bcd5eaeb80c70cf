import { describe, expect, it } from "vitest";
import { spikeLimit } from "./spike";

describe("spikeLimit", () => {
  it("is max(50, ceil(5 × avg))", () => {
    expect(spikeLimit(0)).toBe(50);
    expect(spikeLimit(10)).toBe(50);
    expect(spikeLimit(10.1)).toBe(51);
    expect(spikeLimit(1000)).toBe(5000);
  });
  it("treats junk averages as zero", () => {
    expect(spikeLimit(Number.NaN)).toBe(50);
    expect(spikeLimit(-5)).toBe(50);
    expect(spikeLimit(Number.POSITIVE_INFINITY)).toBe(50);
  });
});
