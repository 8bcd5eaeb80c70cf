// Cutting strings by their size as JSON text in UTF-8: what a queue message's limit counts. A
// UTF-16 code unit takes 1 to 6 bytes there (ASCII 1, CJK 3, a control character escaped as
// \u00XX 6), so a cap in characters alone bounds nothing; these cut by bytes in one linear pass.
// Every search document goes through here, several fields each: the common case (printable ASCII,
// or short enough that even 6 bytes a unit fits) is answered by one native regex test, and the scan
// allocates nothing (a tuple per code unit made a document 15× slower to build).

/** Printable ASCII other than `"` and `\`: one byte each in JSON, nothing escaped. */
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
/** A unit that may cost more than 3 bytes: anything but unescaped non-surrogate characters. */
const OVER_3 = /[^\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\uffff]/;

/** Bytes the code unit at `i` of `s` takes inside a JSON string (a surrogate pair: 4, at its first unit). */
function unitBytes(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x20) return c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
  if (c === 34 || c === 92) return 2; // `"` and `\` are escaped
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    // A pair is 4 bytes and is never split; a lone surrogate is escaped (\udXXX).
    return next >= 0xdc00 && next <= 0xdfff ? 4 : 6;
  }
  if (c >= 0xdc00 && c <= 0xdfff) return 6;
  return 3;
}

/** Units a pair's first half spans with its second (2), or 1. */
const unitsAt = (s: string, i: number, bytes: number) => (bytes === 4 && s.charCodeAt(i) >= 0xd800 ? 2 : 1);

/** Bytes of `s` as a JSON string literal, without its quotes. */
export function jsonBytes(s: string): number {
  if (!NOT_PLAIN.test(s)) return s.length;
  let bytes = 0;
  for (let i = 0; i < s.length; ) {
    const b = unitBytes(s, i);
    bytes += b;
    i += unitsAt(s, i, b);
  }
  return bytes;
}

/**
 * The longest prefix of `s` with at most `maxChars` code units and `maxBytes` bytes as JSON text,
 * never ending inside a surrogate pair. Reads at most `maxChars` units, whatever the length of `s`.
 */
export function clipJson(s: string, maxChars: number, maxBytes: number): string {
  if (s.length <= maxChars) {
    // Whole, when even its dearest units fit: 6 bytes each, or 3 without escapes or surrogates.
    if (s.length * 6 <= maxBytes) return s;
    if (s.length * 3 <= maxBytes && !OVER_3.test(s)) return s;
    if (s.length <= maxBytes && !NOT_PLAIN.test(s)) return s;
  }
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const b = unitBytes(s, i);
    const u = unitsAt(s, i, b);
    if (i + u > maxChars || bytes + b > maxBytes) break;
    bytes += b;
    i += u;
  }
  return i === s.length ? s : s.slice(0, i);
}
