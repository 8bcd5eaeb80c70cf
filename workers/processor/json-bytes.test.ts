// The byte counts behind the search-document caps must be what the queue counts: the UTF-8 of the
// JSON text. Checked against TextEncoder(JSON.stringify(s)) on strings mixing every cost class, on
// both the regex fast paths and the scan.
import { describe, expect, it } from "vitest";
import { clipJson, jsonBytes } from "./json-bytes";

const PIECES = ["a", "Z", " ", '"', "\\", "\n", "\u0001", "é", "名", "😀", "\ud800", "\udc00", "~"];
const quoted = (s: string) => new TextEncoder().encode(JSON.stringify(s)).byteLength - 2;

function randomString(seed: number, length: number): string {
  let x = seed;
  let out = "";
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out += PIECES[x % PIECES.length];
  }
  return out;
}

describe("jsonBytes and clipJson", () => {
  it("count what JSON.stringify writes, in UTF-8", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const s = randomString(seed, seed % 40);
      expect(jsonBytes(s), JSON.stringify(s)).toBe(quoted(s));
    }
    expect(jsonBytes("plain ascii text")).toBe(16);
  });

  it("cut to the longest prefix within both limits, never inside a surrogate pair", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const s = randomString(seed, 30);
      for (const [chars, bytes] of [
        [10, 1000],
        [30, 40],
        [100, 20],
        [5, 6],
      ] as const) {
        const cut = clipJson(s, chars, bytes);
        expect(s.startsWith(cut)).toBe(true);
        expect(cut.length).toBeLessThanOrEqual(chars);
        expect(quoted(cut)).toBeLessThanOrEqual(bytes);
        const next = s.slice(
          0,
          cut.length +
            (s.charCodeAt(cut.length) >= 0xd800 &&
            s.charCodeAt(cut.length) <= 0xdbff &&
            s.charCodeAt(cut.length + 1) >= 0xdc00 &&
            s.charCodeAt(cut.length + 1) <= 0xdfff
              ? 2
              : 1),
        );
        // One more unit (or pair) would break a limit, unless the string was whole.
        if (cut.length < s.length) expect(next.length > chars || quoted(next) > bytes).toBe(true);
      }
    }
  });

  it("returns short strings whole by the fast paths", () => {
    expect(clipJson("名".repeat(300), 300, 1024)).toBe("名".repeat(300));
    expect(clipJson("x".repeat(1000), 1000, 1000)).toBe("x".repeat(1000));
    expect(clipJson('"'.repeat(300), 300, 1024)).toBe('"'.repeat(300)); // 600 bytes: scanned, whole
    expect(clipJson("\u0001".repeat(300), 300, 1024)).toHaveLength(170); // 6 bytes each
  });
});
