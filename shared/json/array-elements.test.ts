import { describe, expect, it } from "vitest";
import { arrayElementTexts } from "./array-elements";

/** A deterministic pseudo-random generator, so a failure replays. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TRICKY = [
  '"',
  "\\",
  "\\\\",
  '\\"',
  "]",
  "[",
  "}",
  "{",
  ",",
  ":",
  " ",
  "\n",
  "\u2028",
  "é",
  "😀",
  "\u0000",
  "x",
];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 6));
  if (k === 0) return Math.floor(r() * 1e6) / (r() < 0.5 ? 1 : 1000) - 500;
  if (k === 1) return [true, false, null][Math.floor(r() * 3)];
  if (k <= 3) {
    let s = "";
    for (let n = Math.floor(r() * 6); n > 0; n--) s += TRICKY[Math.floor(r() * TRICKY.length)];
    return s;
  }
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let n = Math.floor(r() * 4); n > 0; n--) o[String(randomValue(r, 9))] = randomValue(r, depth + 1);
  return o;
}

/** JSON text of `value` with random (valid) whitespace between tokens. */
function spaced(value: unknown, r: () => number): string {
  const ws = () => [" ", "\n", "\t", "\r\n", ""][Math.floor(r() * 5)]!;
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => `${ws()}${spaced(v, r)}${ws()}`).join(",")}${ws()}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value).map(
      ([k, v]) => `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${spaced(v, r)}`,
    );
    return `{${members.join(",")}${ws()}}`;
  }
  return JSON.stringify(value);
}

describe("arrayElementTexts", () => {
  it("returns each element's exact text, as sent", () => {
    const text = ' [ {"a" : 1.0, "b":"\\u0041]"} ,\n[2,"]\\\\"], "x\\"y" , -1.5e3,true , null ]\n';
    expect(arrayElementTexts(text)).toEqual([
      '{"a" : 1.0, "b":"\\u0041]"}',
      '[2,"]\\\\"]',
      '"x\\"y"',
      "-1.5e3",
      "true",
      "null",
    ]);
    expect(arrayElementTexts("[]")).toEqual([]);
    expect(arrayElementTexts(" [ \n ] ")).toEqual([]);
  });

  it("agrees with JSON.parse on 2,000 random arrays of hostile strings, nesting and whitespace", () => {
    const r = rng(11);
    for (let n = 0; n < 2000; n++) {
      const value = Array.from({ length: Math.floor(r() * 6) }, () => randomValue(r, 0));
      const text = spaced(value, r);
      const parts = arrayElementTexts(text);
      expect(
        parts.map((p) => JSON.parse(p)),
        text,
      ).toEqual(JSON.parse(text));
      for (const p of parts) {
        expect(text.includes(p)).toBe(true);
        expect(p.trim()).toBe(p);
      }
    }
  });

  it("is linear: a 4 MB array of strings full of escaped quotes is split quickly", () => {
    const element = JSON.stringify('\\"'.repeat(20_000));
    const text = `[${Array.from({ length: 100 }, () => element).join(",")}]`;
    const t0 = performance.now();
    expect(arrayElementTexts(text)).toHaveLength(100);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
