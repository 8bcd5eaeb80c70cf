import { describe, expect, it } from "vitest";
import { FILTERED, hasTrigger, scrubString } from "./scrub-rules";

const RULES = { defaults: true, scrubIp: false, fields: [] };

/** What each in-string rule needs to be able to match (case-sensitive where the rule is). */
const REFERENCE = /\d(?:[ -]?\d){12}|[bB][eE][aA][rR][eE][rR]|[bB][aA][sS][iI][cC]|@|-----BEGIN|=/;

describe("hasTrigger", () => {
  it.each([
    ["4111 1111 1111 1111", true],
    ["x4111-1111-1111-1x", true], // 13 digits with single separators
    ["1234567890 12", false], // 12 digits
    ["12 34 56 78 90 12 3", true],
    ["1234567  890123", false], // a double separator ends the run
    ["1234567- 890123", false],
    ["Authorization: BEARER abc", true],
    ["Basic dXNlcjpwYXNz", true],
    ["ada@example.com", true],
    ["-----BEGIN RSA PRIVATE KEY-----", true],
    ["ab=c", true],
    ["/src/app/checkout.ts", false],
    ["abc", false],
    ["bea", false],
  ])("%s → %s", (s, expected) => {
    expect(hasTrigger(s)).toBe(expected);
  });

  it("agrees with the rules' own triggers on random short strings", () => {
    const alphabet = "0123456789 - = @ bBearsicEARSIC BEGIN -----BEGIN xyz";
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let triggered = 0;
    for (let n = 0; n < 20_000; n++) {
      let s = "";
      const len = 4 + Math.floor(rand() * 40);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      expect(hasTrigger(s), JSON.stringify(s)).toBe(REFERENCE.test(s));
      if (REFERENCE.test(s)) triggered++;
    }
    expect(triggered).toBeGreaterThan(1000);
    expect(triggered).toBeLessThan(19_000);
  });

  it("gates long strings too, so a secret far into a long string is still scrubbed", () => {
    const pad = "x".repeat(5000);
    expect(scrubString(`${pad} card 4111 1111 1111 1111 ${pad}`, RULES)).toBe(
      `${pad} card ${FILTERED} ${pad}`,
    );
    expect(scrubString(`${pad} https://ada:s3cret@db.example/x`, RULES)).toBe(
      `${pad} https://${FILTERED}:${FILTERED}@db.example/x`,
    );
    expect(scrubString(`${pad}${pad}`, RULES)).toBe(`${pad}${pad}`);
  });
});
