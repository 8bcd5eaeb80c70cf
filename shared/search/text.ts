// Tokenization shared by both search backends: documents and queries are reduced to the same
// lowercase, diacritic-free alphanumeric tokens here, so Elasticsearch and D1 FTS5 match the same docs.
//
// Why not let each engine tokenize? ES's standard tokenizer keeps "foo.bar" and "snake_case" whole
// (Unicode word rules) while FTS5's unicode61 splits them; feeding both engines pre-split,
// space-joined tokens makes every engine-side tokenizer a no-op and the semantics identical.

import type { SearchDoc } from "../queue-message";

/**
 * Runs of letters and digits, cut where Elasticsearch's standard tokenizer (Unicode word rules,
 * UAX #29) cuts them even without a space: each Han ideograph and each Hiragana character is a
 * token of its own, and a run of Katakana (with its prolonged sound mark) is one, apart from the
 * letters around it. Fed text already cut this way, ES cuts no further, so both engines find
 * 「文字」 in 「中文字」 and 「ファイル」 in 「ファイルが見つかりません」.
 */
const TOKEN =
  /[\p{Script=Han}\p{Script=Hiragana}]|[\p{Script=Katakana}\u30fc]+|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc])[\p{L}\p{N}])+/gu;
const MARKS = /\p{M}+/gu;
/** ES's standard tokenizer splits tokens longer than this; split them the same way on both sides. */
const MAX_TOKEN = 255;

/** Text lowercased and without diacritics, cut into the runs `pattern` matches (≤ MAX_TOKEN each). */
function cut(text: string, pattern: RegExp): string[] {
  const folded = text.normalize("NFKD").replace(MARKS, "").toLowerCase();
  const out: string[] = [];
  for (const match of folded.matchAll(pattern)) {
    const token = match[0];
    for (let i = 0; i < token.length; i += MAX_TOKEN) out.push(token.slice(i, i + MAX_TOKEN));
  }
  return out;
}

/**
 * Splits text into search tokens.
 *
 * @example
 * tokenize("TypeError: Cannot read 'foo.bar' of Ünd") // ["typeerror", "cannot", "read", "foo", "bar", "of", "und"]
 */
export function tokenize(text: string): string[] {
  return cut(text, TOKEN);
}

/** Letters and digits as one run, as search text was cut before Chinese and Japanese were cut apart. */
const RUN = /[\p{L}\p{N}]+/gu;

/**
 * `text` cut as it was before Han, Hiragana and Katakana were cut apart (whole runs), or null when
 * that is how `tokenize` cut it (`tokens`) anyway: what the embedded FTS5 backend also matches, so
 * documents it indexed before that change are still found by a whole run.
 */
export function legacyTokens(text: string, tokens: string[]): string[] | null {
  const out = cut(text, RUN);
  return out.length === tokens.length && out.every((t, i) => t === tokens[i]) ? null : out;
}

/** The one text field both engines index: type, message, stack and tags ("k:v"), tokenized. */
export function searchText(doc: Pick<SearchDoc, "type" | "message" | "stack" | "tags">): string {
  const tags = Object.entries(doc.tags ?? {}).map(([k, v]) => `${k}:${v}`);
  return tokenize([doc.type ?? "", doc.message ?? "", doc.stack ?? "", ...tags].join("\n")).join(" ");
}
