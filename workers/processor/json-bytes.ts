// Cutting strings by their size as JSON text in UTF-8: what a queue message's limit counts. A
// UTF-16 code unit takes 1 to 6 bytes there (ASCII 1, CJK 3, a control character escaped as
// \u00XX 6), so a cap in characters alone bounds nothing; these cut by bytes in one linear pass.

/** Bytes the code unit at `i` of `s` takes inside a JSON string, and how many units it spans. */
function unitCost(s: string, i: number): [bytes: number, units: number] {
  const c = s.charCodeAt(i);
  if (c < 0x20) return [c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6, 1];
  if (c === 34 || c === 92) return [2, 1]; // `"` and `\` are escaped
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = s.charCodeAt(i + 1);
    // A pair is 4 bytes and is never split; a lone surrogate is escaped (\udXXX).
    return next >= 0xdc00 && next <= 0xdfff ? [4, 2] : [6, 1];
  }
  if (c >= 0xdc00 && c <= 0xdfff) return [6, 1];
  return [3, 1];
}

/** Bytes of `s` as a JSON string literal, without its quotes. */
export function jsonBytes(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; ) {
    const [b, u] = unitCost(s, i);
    bytes += b;
    i += u;
  }
  return bytes;
}

/**
 * The longest prefix of `s` with at most `maxChars` code units and `maxBytes` bytes as JSON text,
 * never ending inside a surrogate pair. Reads at most `maxChars` units, whatever the length of `s`.
 */
export function clipJson(s: string, maxChars: number, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const [b, u] = unitCost(s, i);
    if (i + u > maxChars || bytes + b > maxBytes) break;
    bytes += b;
    i += u;
  }
  return i === s.length ? s : s.slice(0, i);
}
