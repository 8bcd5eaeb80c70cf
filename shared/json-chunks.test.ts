import { describe, expect, it } from "vitest";
import { jsonChunks } from "./json-chunks";

describe("jsonChunks", () => {
  it("splits rows into bounded JSON arrays that together hold every row once", () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ i, s: "x".repeat(i % 50) }));
    const chunks = jsonChunks(rows, 5000);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.every((c) => c.length <= 5000)).toBe(true);
    expect(chunks.flatMap((c) => JSON.parse(c))).toEqual(rows);
    expect(jsonChunks([])).toEqual([]);
  });
});
