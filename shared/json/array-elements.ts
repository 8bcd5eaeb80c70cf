// The raw text of each element of a JSON array, so that the edge can queue each report of a Raygun
// bulk request exactly as the client sent it instead of serialising its parsed form again.

// The character codes and scanning steps are shared with member-text.ts.
export const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const COMMA = 0x2c;

export const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index just past the string whose opening quote is at `at`. */
export function endOfString(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) throw new Error("unterminated string");
    // The quote is escaped when an odd number of backslashes precede it.
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * The elements of the JSON array `text` as substrings of it (without surrounding whitespace), in
 * order. `text` must be JSON that `JSON.parse` accepted and whose value is an array: this only finds
 * the boundaries, it does not validate. One linear pass; string contents are skipped with indexOf.
 *
 * @example arrayElementTexts('[ {"a":1} , [2,"]"] ]') // ['{"a":1}', '[2,"]"]']
 */
export function arrayElementTexts(text: string): string[] {
  const out: string[] = [];
  let i = text.indexOf("[");
  if (i < 0) throw new Error("not a JSON array");
  i++;
  let depth = 0;
  let start = -1;
  let end = -1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (start < 0) start = i;
      i = endOfString(text, i) - 1;
      end = i + 1;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (start < 0) start = i;
      depth++;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === 0) {
        if (start >= 0) out.push(text.slice(start, end));
        return out;
      }
      depth--;
      end = i + 1;
    } else if (c === COMMA && depth === 0) {
      out.push(text.slice(start, end));
      start = -1;
    } else if (!isJsonSpace(c)) {
      // Part of a number or literal (or of a nested value's separators).
      if (start < 0) start = i;
      if (depth === 0) end = i + 1;
    }
  }
  throw new Error("unterminated array");
}
