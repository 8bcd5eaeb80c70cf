import { describe, expect, it } from "vitest";
import { backoffSeconds } from "./backoff";

describe("backoffSeconds", () => {
  it("doubles per attempt and caps at 5 minutes", () => {
    expect([1, 2, 3, 4, 8, 9, 20].map(backoffSeconds)).toEqual([2, 4, 8, 16, 256, 300, 300]);
  });
});
