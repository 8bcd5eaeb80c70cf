import { describe, expect, it } from "vitest";
import { compileGlobs, wildcardMatch } from "./glob";

describe("globs", () => {
  it("match whole strings with * and ?, case-insensitively", () => {
    const g = compileGlobs(["1.0.*", "*-BETA", "v?.2", "exact", "*Resize*loop*"]);
    expect(g.test("1.0.3")).toBe(true);
    expect(g.test("2.0.0-beta")).toBe(true);
    expect(g.test("v1.2")).toBe(true);
    expect(g.test("v10.2")).toBe(false);
    expect(g.test("EXACT")).toBe(true);
    expect(g.test("exactly")).toBe(false);
    expect(g.test("Error: ResizeObserver loop limit exceeded")).toBe(true);
    expect(g.test("1.1.0")).toBe(false);
  });
  it("treat regex metacharacters literally", () => {
    expect(compileGlobs(["a.b(c)+"]).test("a.b(c)+")).toBe(true);
    expect(compileGlobs(["a.b"]).test("axb")).toBe(false);
  });
  it("stay fast on adversarial patterns", () => {
    const text = "a".repeat(20_000);
    const t0 = Date.now();
    expect(wildcardMatch("*a*a*a*a*a*b", text)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it("an empty set matches nothing", () => {
    expect(compileGlobs([]).test("x")).toBe(false);
  });
});
