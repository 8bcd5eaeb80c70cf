import { describe, expect, it } from "vitest";
import { compileGlob, compileGlobs } from "./glob";

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
    expect(compileGlob("*a*a*a*a*a*b")(text)).toBe(false);
    expect(compileGlob("*a?a*a??b*")(text)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it("place middle segments in order between head and tail, with ? inside segments", () => {
    expect(compileGlob("a*b?d*e")("axxbcdyye")).toBe(true);
    expect(compileGlob("a*b?d*e")("axxbdyye")).toBe(false);
    expect(compileGlob("ab*ba")("aba")).toBe(false);
    expect(compileGlob("ab*ba")("abba")).toBe(true);
    expect(compileGlob("*??*")("a")).toBe(false);
    expect(compileGlob("*??*")("ab")).toBe(true);
    const long = `x${"?".repeat(40)}y`;
    expect(compileGlob(`*${long}*`)(`zz x${"k".repeat(40)}y zz`)).toBe(true);
    expect(compileGlob(`*${long}*`)(`zz x${"k".repeat(39)}y zz`)).toBe(false);
  });
  it("an empty set matches nothing", () => {
    expect(compileGlobs([]).test("x")).toBe(false);
  });
});
