// Parses the search box (`GET /api/v1/projects/:id/search?q=`) into a small AST that both search
// backends translate (elasticsearch.ts → bool query, fts.ts → SQL + FTS5 MATCH). Bad syntax is the
// user's error: it throws a 400 ClientError, never anything that could become a 500.
//
// Grammar (terms are ANDed; a leading "-" negates a term):
//   word             free text; "foo.bar" is the phrase "foo bar" (see text.ts)
//   "a phrase"       adjacent tokens, in order
//   field:value      exact match on a keyword field; field:"value with spaces" also works
//   tags.key:value   exact match on one tag

import { badRequest } from "../http/errors";
import { legacyTokens, tokenize } from "./text";

/** Keyword fields a query may filter on; the names are SearchDoc's. */
export const QUERY_FIELDS = [
  "type",
  "level",
  "release",
  "environment",
  "user",
  "groupId",
  "fingerprint",
  "platform",
  "category",
] as const;
export type QueryField = (typeof QUERY_FIELDS)[number];

/** Free text: a sequence of tokens that must appear adjacent and in order (one token = a word). */
export interface TextTerm {
  kind: "text";
  tokens: string[];
  negated: boolean;
  /** The tokens as text was cut before Chinese and Japanese were cut apart, where they differ (text.ts). */
  legacy?: string[];
}
export interface FieldTerm {
  kind: "field";
  field: QueryField;
  value: string;
  negated: boolean;
}
export interface TagTerm {
  kind: "tag";
  key: string;
  value: string;
  negated: boolean;
}
export type QueryTerm = TextTerm | FieldTerm | TagTerm;

export interface SearchQuery {
  terms: QueryTerm[];
}

/** Keeps the generated ES query and SQL (≤ 100 bound parameters on D1) bounded. */
export const MAX_TERMS = 30;
export const MAX_QUERY_LENGTH = 2048;
const TAG_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const FIELD_NAMES = new Set<string>(QUERY_FIELDS);

/**
 * Parses a query string; throws `badRequest` on unbalanced quotes, unknown fields or empty values.
 *
 * @example
 * parseQuery('TypeError "cannot read" level:error -environment:dev tags.browser:Chrome')
 */
export function parseQuery(q: string | null | undefined): SearchQuery {
  const input = q ?? "";
  if (input.length > MAX_QUERY_LENGTH) throw badRequest(`query longer than ${MAX_QUERY_LENGTH} characters`);
  const terms: QueryTerm[] = [];
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i++;
      continue;
    }
    let negated = false;
    if (input[i] === "-" && i + 1 < input.length && !/\s/.test(input[i + 1]!)) {
      negated = true;
      i++;
    }
    // A word that opens with a quote is the phrase up to the closing quote (what follows starts a
    // new word: `"foo bar"level:error` is a phrase and a filter).
    if (input[i] === '"') {
      const end = closingQuote(input, i);
      pushText(terms, input.slice(i + 1, end), negated);
      i = end + 1;
      continue;
    }
    // A bare word runs to whitespace; a quoted part inside it (field:"a b", release:1."0 beta") is
    // part of the word, spaces and all, as in a shell: nothing before or after it is dropped.
    let word = "";
    let firstQuote = -1;
    while (i < input.length && !/\s/.test(input[i]!)) {
      if (input[i] === '"') {
        const end = closingQuote(input, i);
        if (firstQuote < 0) firstQuote = word.length;
        word += input.slice(i + 1, end);
        i = end + 1;
        continue;
      }
      word += input[i++];
    }
    // A field name is what comes before a colon that is not quoted.
    const colon = word.indexOf(":");
    if (
      colon > 0 &&
      (firstQuote < 0 || colon < firstQuote) &&
      /^[A-Za-z][\w.-]*$/.test(word.slice(0, colon))
    ) {
      terms.push(fieldTerm(word.slice(0, colon), word.slice(colon + 1), negated));
    } else {
      pushText(terms, word, negated);
    }
  }
  if (terms.length > MAX_TERMS) throw badRequest(`query has more than ${MAX_TERMS} terms`);
  return { terms };
}

function closingQuote(input: string, open: number): number {
  const end = input.indexOf('"', open + 1);
  if (end < 0) throw badRequest("unbalanced quote in search query");
  return end;
}

/** Punctuation-only words ("*", "-", ":") carry no tokens and match everything, so they are dropped. */
function pushText(terms: QueryTerm[], text: string, negated: boolean): void {
  const tokens = tokenize(text);
  if (tokens.length === 0) return;
  const legacy = legacyTokens(text, tokens);
  terms.push(legacy ? { kind: "text", tokens, negated, legacy } : { kind: "text", tokens, negated });
}

function fieldTerm(name: string, value: string, negated: boolean): FieldTerm | TagTerm {
  if (value.length === 0) {
    throw badRequest(`empty value for "${name}:" in search query`, [
      `to search the text, quote it: "${name}:"`,
    ]);
  }
  if (name.startsWith("tags.")) {
    const key = name.slice("tags.".length);
    if (!TAG_KEY.test(key)) throw badRequest(`invalid tag key "${key}" in search query`);
    return { kind: "tag", key, value, negated };
  }
  if (!FIELD_NAMES.has(name)) {
    throw badRequest(`unknown field "${name}" in search query`, [
      `known fields: ${QUERY_FIELDS.join(", ")}, tags.<key>`,
      `to search the text, quote it: "${name}:${value}"`,
    ]);
  }
  return { kind: "field", field: name as QueryField, value, negated };
}
