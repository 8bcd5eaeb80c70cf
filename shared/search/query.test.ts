import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import { MAX_TERMS, parseQuery } from "./query";
import { tokenize } from "./text";

describe("parseQuery", () => {
  it("parses words, phrases, field and tag terms, and negation", () => {
    expect(
      parseQuery('TypeError "Cannot read" level:error -environment:dev tags.browser:Chrome -foo').terms,
    ).toEqual([
      { kind: "text", tokens: ["typeerror"], negated: false },
      { kind: "text", tokens: ["cannot", "read"], negated: false },
      { kind: "field", field: "level", value: "error", negated: false },
      { kind: "field", field: "environment", value: "dev", negated: true },
      { kind: "tag", key: "browser", value: "Chrome", negated: false },
      { kind: "text", tokens: ["foo"], negated: true },
    ]);
  });

  it("accepts quoted field values and keeps them verbatim", () => {
    expect(parseQuery('release:"my app@1.0 beta" user:a:b').terms).toEqual([
      { kind: "field", field: "release", value: "my app@1.0 beta", negated: false },
      { kind: "field", field: "user", value: "a:b", negated: false },
    ]);
  });

  it("keeps what comes before and after a quoted part of a word, as a shell does", () => {
    expect(parseQuery('type:Type"Error X" release:1."0 beta"-rc level:"err"or x"a:b"c').terms).toEqual([
      { kind: "field", field: "type", value: "TypeError X", negated: false },
      { kind: "field", field: "release", value: "1.0 beta-rc", negated: false },
      { kind: "field", field: "level", value: "error", negated: false },
      // The colon is quoted: text, not a field "xa".
      { kind: "text", tokens: ["xa", "bc"], negated: false },
    ]);
    // A word that opens with a quote is the phrase; what follows the closing quote is a new word.
    expect(parseQuery('"foo bar"level:error').terms).toEqual([
      { kind: "text", tokens: ["foo", "bar"], negated: false },
      { kind: "field", field: "level", value: "error", negated: false },
    ]);
  });

  it("turns punctuated words into phrases and drops punctuation-only words", () => {
    expect(parseQuery("util.readFoo * - ").terms).toEqual([
      { kind: "text", tokens: ["util", "readfoo"], negated: false },
    ]);
    expect(parseQuery("").terms).toEqual([]);
    expect(parseQuery(null).terms).toEqual([]);
    expect(parseQuery('"quoted:colon"').terms).toEqual([
      { kind: "text", tokens: ["quoted", "colon"], negated: false },
    ]);
  });

  it.each([
    ['"unbalanced', "unbalanced quote"],
    ['level:"open', "unbalanced quote"],
    ["nosuch:value", 'unknown field "nosuch"'],
    ["level:", 'empty value for "level:"'],
    ['level:""', 'empty value for "level:"'],
    ["tags.:x", "invalid tag key"],
    ["tags.a b:x", 'unknown field "b"'],
    [Array.from({ length: MAX_TERMS + 1 }, (_, i) => `w${i}`).join(" "), "more than"],
    ["x".repeat(3000), "longer than"],
  ])("rejects %j with a 400", (q, message) => {
    let error: unknown;
    try {
      parseQuery(q);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ status: 400 });
    expect((error as Error).message).toContain(message);
  });
});

describe("tokenize", () => {
  it("lowercases, folds diacritics and splits on anything but letters and digits", () => {
    expect(tokenize("Naïve CAFÉ: foo_bar.baz 3.14 日本")).toEqual([
      "naive",
      "cafe",
      "foo",
      "bar",
      "baz",
      "3",
      "14",
      "日",
      "本",
    ]);
  });
  it("cuts Chinese and Japanese where Elasticsearch's standard tokenizer does", () => {
    // Han and Hiragana one character each, Katakana by the run (が and バ lose their dakuten, as é its
    // accent).
    expect(tokenize("ファイルが見つかりません: サーバー中文字 abcカタ3中")).toEqual([
      "ファイル",
      "か",
      "見",
      "つ",
      "か",
      "り",
      "ま",
      "せ",
      "ん",
      "サーハー",
      "中",
      "文",
      "字",
      "abc",
      "カタ",
      "3",
      "中",
    ]);
  });
  it("splits tokens longer than 255 characters like Elasticsearch does", () => {
    expect(tokenize("a".repeat(300)).map((t) => t.length)).toEqual([255, 45]);
  });
});
