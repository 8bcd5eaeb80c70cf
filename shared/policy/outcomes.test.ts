import { describe, expect, it } from "vitest";
import {
  acceptedOutcome,
  filteredOutcome,
  invalidOutcome,
  invalidReason,
  mergeOutcomes,
  rateLimitedOutcome,
  sampledOutcome,
  tooLargeOutcome,
} from "./outcomes";

const at = 1_700_000_040_000;

describe("outcome builders", () => {
  it("name reasons one way", () => {
    expect(filteredOutcome("p", "error", "web-crawlers", { at })).toEqual({
      projectId: "p",
      category: "error",
      outcome: "filtered",
      reason: "web-crawlers",
      quantity: 1,
      at,
    });
    expect(sampledOutcome("p", "transaction").reason).toBe("sample_rate");
    expect(rateLimitedOutcome("p", "error", "spike_protection").outcome).toBe("rate_limited");
    expect(tooLargeOutcome("p", "error", { quantity: 3 })).toMatchObject({
      reason: "too_large",
      quantity: 3,
    });
    expect(acceptedOutcome("p", "rum").reason).toBe("");
    expect(invalidOutcome("p", "error", "missing occurredOn").reason).toBe("invalid:missing_occurredon");
    expect(invalidReason("  ")).toBe("invalid");
    expect(invalidReason("x".repeat(500)).length).toBe("invalid:".length + 64);
  });
});

describe("mergeOutcomes", () => {
  it("sums records with the same key and minute", () => {
    const merged = mergeOutcomes([
      filteredOutcome("p", "error", "localhost", { at: at + 1_000 }),
      filteredOutcome("p", "error", "localhost", { at: at + 59_000, quantity: 4 }),
      filteredOutcome("p", "error", "localhost", { at: at + 60_000 }),
      filteredOutcome("p", "error", "web-crawlers", { at }),
      filteredOutcome("q", "error", "localhost", { at }),
      sampledOutcome("p", "transaction", { at }),
    ]);
    expect(merged).toHaveLength(5);
    expect(merged[0]).toEqual({
      projectId: "p",
      category: "error",
      outcome: "filtered",
      reason: "localhost",
      quantity: 5,
      at,
    });
    expect(merged[1]).toMatchObject({ reason: "localhost", quantity: 1, at: at + 60_000 });
  });
  it("does not mutate its input", () => {
    const input = [sampledOutcome("p", "span", { at }), sampledOutcome("p", "span", { at })];
    mergeOutcomes(input);
    expect(input[0]?.quantity).toBe(1);
  });
});
