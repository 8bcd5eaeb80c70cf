// The function-name search of symbolication is bounded per event: its pattern reads a line once
// (lines of identifier characters made it quadratic), frames on one line share the search above
// them whatever their column, a 250-frame stack reads at most NAME_SCAN_CHARS of source, and the
// per-event deadline is checked between frames. Work is counted (characters handed to the pattern)
// or compared as a growth ratio, never held to a wall-clock threshold.
import { describe, expect, it } from "vitest";
import { measureGrowth } from "../../test/linear-time";
import type { StackFrame } from "../event";
import { MapCache, type ParsedMap } from "./map-cache";
import { type MapResolver, NAME_SCAN_CHARS, symbolicateEvent } from "./symbolicate";
import { jsEvent } from "./test-helpers";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One source-map VLQ number. */
function vlq(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = "";
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += B64[digit];
  } while (v > 0);
  return out;
}

/**
 * A map of one original source of `lines`, whose generated line k+1 is original line k, with
 * `columns` segments on each (generated column c → original column c).
 */
async function mapOver(lines: string[], columns = 1): Promise<ParsedMap> {
  const generated: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const segments = [`A${vlq(0)}${vlq(k === 0 ? 0 : 1)}${vlq(k === 0 ? 0 : -(columns - 1))}`];
    for (let c = 1; c < columns; c++) segments.push(`${vlq(1)}AA${vlq(1)}`);
    generated.push(segments.join(","));
  }
  const text = JSON.stringify({
    version: 3,
    sources: ["src/app.js"],
    sourcesContent: [lines.join("\n")],
    names: [],
    mappings: generated.join(";"),
  });
  const load = await new MapCache().get("k", async () => text);
  if ("error" in load) throw new Error(load.error);
  return load;
}

const fixed = (map: ParsedMap): MapResolver => ({ resolve: async () => map });

/** Minified frames at (generated line, column), 1-based as SDKs report them. */
const framesAt = (positions: [number, number][]): StackFrame[] =>
  positions.map(([lineno, colno]) => ({
    filename: "https://x.example/app.js",
    absPath: "https://x.example/app.js",
    function: "m",
    module: null,
    lineno,
    colno,
    inApp: true,
  }));

/** Characters handed to the function-definition pattern while `run` runs. */
async function charsScanned(run: () => Promise<unknown>): Promise<number> {
  const original = String.prototype.matchAll;
  let chars = 0;
  String.prototype.matchAll = function (this: string, re: RegExp) {
    if (re instanceof RegExp && re.source.includes("function")) chars += this.length;
    return original.call(this, re);
  } as typeof original;
  try {
    await run();
  } finally {
    String.prototype.matchAll = original;
  }
  return chars;
}

const xLines = (count: number, width: number) => Array.from({ length: count }, () => "x".repeat(width));

describe("function-name search", () => {
  it("grows linearly with the length of lines of identifier characters", async () => {
    // 8 frames, each searching its line and the 100 above (no definition anywhere).
    const positions: [number, number][] = Array.from({ length: 8 }, (_, i) => [151 + i, 1]);
    const small = await mapOver(xLines(200, 50));
    const large = await mapOver(xLines(200, 500));
    const step = async (parsed: ParsedMap) => {
      parsed.names.clear();
      parsed.frames.clear();
      await symbolicateEvent(jsEvent(framesAt(positions)), new Map(), fixed(parsed));
    };
    const growth = await measureGrowth(step, small, large);
    expect(growth.ratio).toBeLessThan(15); // the old pattern: ~100 (quadratic)
  });

  it("reads at most NAME_SCAN_CHARS for a 250-frame stack on 500-character lines of x", async () => {
    expect(NAME_SCAN_CHARS).toBe(500_000);
    const parsed = await mapOver(xLines(400, 500));
    // Every frame on its own line, each needing the 100 lines above it: 12.6 M characters unbounded.
    const positions: [number, number][] = Array.from({ length: 250 }, (_, i) => [120 + i, 500]);
    const event = jsEvent(framesAt(positions));
    const chars = await charsScanned(() => symbolicateEvent(event, new Map(), fixed(parsed)));
    expect(chars).toBeLessThanOrEqual(NAME_SCAN_CHARS);
    // Frames past the allowance are still mapped, only without a name of their own.
    const frames = event.exceptions[0]!.frames;
    expect(frames.map((f) => f.lineno)).toEqual(positions.map(([line]) => line));
    expect(frames.every((f) => f.unmapped === undefined)).toBe(true);
  });

  it("searches above a line once for all frames on it, whatever their column", async () => {
    const lines = xLines(400, 300);
    lines[200] = "function outer() {";
    const parsed = await mapOver(lines, 250);
    // 250 frames on original line 300 (generated line 301), columns 0–249.
    const positions: [number, number][] = Array.from({ length: 250 }, (_, c) => [301, c + 1]);
    const event = jsEvent(framesAt(positions));
    const chars = await charsScanned(() => symbolicateEvent(event, new Map(), fixed(parsed)));
    const frames = event.exceptions[0]!.frames;
    expect(frames.every((f) => f.function === "outer" && f.lineno === 301)).toBe(true);
    expect(new Set(frames.map((f) => f.colno)).size).toBe(250);
    // Own line up to each column (≤ 250 × 251 / 2) plus the 100 lines above once (≤ 100 × 300).
    expect(chars).toBeLessThanOrEqual((250 * 251) / 2 + 100 * 300);
  });

  it("finishes a search cut short by one event's allowance in a later event", async () => {
    const lines = xLines(400, 500);
    lines[60] = "function outer() {"; // within 100 lines above each frame
    const parsed = await mapOver(lines);
    const positions: [number, number][] = Array.from({ length: 20 }, (_, i) => [101 + i, 1]);
    const first = jsEvent(framesAt(positions));
    await symbolicateEvent(first, new Map(), fixed(parsed), { budget: { left: 100_000 } });
    const named = (e: typeof first) => e.exceptions[0]!.frames.filter((f) => f.function === "outer").length;
    expect(named(first)).toBeLessThan(20);
    const second = jsEvent(framesAt(positions));
    await symbolicateEvent(second, new Map(), fixed(parsed));
    expect(named(second)).toBe(20);
  });

  it("leaves the frames after the deadline unmapped, with the reason", async () => {
    const parsed = await mapOver(["function a() {", "  return 1;", "}", "a();", "a();"]);
    const event = jsEvent(framesAt([1, 2, 3, 4, 5].map((l) => [l, 1] as [number, number])));
    let clock = 0;
    await symbolicateEvent(event, new Map(), fixed(parsed), { deadline: 2, now: () => ++clock });
    const frames = event.exceptions[0]!.frames;
    expect(frames.slice(0, 2).every((f) => f.unmapped === undefined && f.filename === "src/app.js")).toBe(
      true,
    );
    for (const f of frames.slice(2)) expect(f.unmapped).toMatch(/^unavailable: .*time ran out/);
  });
});
