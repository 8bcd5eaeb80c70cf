// The raw text of one member of a JSON object, so that the edge can queue the items of a RUM body
// (`{"eventData":[...]}`) as the client sent them, sliced from the body, instead of serialising
// each parsed item again.

import {
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COMMA,
  endOfString,
  isJsonSpace,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
} from "./array-elements";

const COLON = 0x3a;

function skipSpace(text: string, i: number): number {
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index just past the value that starts at `at` (no whitespace before it). */
function endOfValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return endOfString(text, at);
  if (c !== OPEN_ARRAY && c !== OPEN_OBJECT) {
    // A number or a literal: it ends at the first separator.
    let i = at;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isJsonSpace(d)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) i = endOfString(text, i) - 1;
    else if (d === OPEN_ARRAY || d === OPEN_OBJECT) depth++;
    else if ((d === CLOSE_ARRAY || d === CLOSE_OBJECT) && --depth === 0) return i + 1;
  }
  throw new Error("unterminated value");
}

/**
 * The text of the member that `getCI(JSON.parse(text), name)` reads (shared/json/case-insensitive),
 * or null when there is none: the key spelled exactly `name` if present, else the first key (in
 * order) equal to it case-insensitively; of a repeated key, the last value, as JSON.parse keeps.
 * `text` must be JSON that `JSON.parse` accepted and whose value is an object: this finds
 * boundaries, it does not validate. One linear pass; strings are skipped with indexOf.
 *
 * @example memberTextCI('{"EventData": [1, 2]}', "eventData") // "[1, 2]"
 */
export function memberTextCI(text: string, name: string): string | null {
  const lower = name.toLowerCase();
  let exact: string | null = null;
  let firstKey: string | null = null;
  let first: string | null = null;
  let i = text.indexOf("{");
  if (i < 0) throw new Error("not a JSON object");
  i = skipSpace(text, i + 1);
  while (i < text.length && text.charCodeAt(i) !== CLOSE_OBJECT) {
    const keyEnd = endOfString(text, i);
    const raw = text.slice(i + 1, keyEnd - 1);
    // Escapes in a key are rare: only then does it need decoding.
    const key = raw.includes("\\") ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) throw new Error("expected a colon");
    const start = skipSpace(text, i + 1);
    const end = endOfValue(text, start);
    if (key === name) exact = text.slice(start, end);
    else if (key.toLowerCase() === lower) {
      firstKey ??= key;
      if (key === firstKey) first = text.slice(start, end);
    }
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return exact ?? first;
}
