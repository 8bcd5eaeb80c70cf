import { describe, expect, it } from "vitest";
import jsReport from "../../workers/edge/raygun/fixtures/raygun4js-shaped-pascalcase.json";
import nodeReport from "../../workers/edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import { scrubJson } from "./scrub";
import { mayNeedScrubbing } from "./scrub-prefilter";

const DEFAULTS = { defaults: true, scrubIpAddresses: false, sensitiveFields: [] };

describe("mayNeedScrubbing", () => {
  it.each([
    ['{"form":{"password":"x"}}'],
    ['{"headers":{"Authorization":"Bearer abcdefghijkl"}}'],
    ['{"url":"https://ada:s3cret@db.example/x"}'],
    ['{"url":"https:\\/\\/ada:s3cret@db.example\\/x"}'],
    ['{"m":"card 4111 1111 1111 1111 declined"}'],
    ['{"k":"-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----"}'],
    ['{"q":"a=1&api_key=zzz"}'],
  ])("says yes for %s", (text) => {
    expect(mayNeedScrubbing(text, DEFAULTS)).toBe(true);
    expect(scrubJson(JSON.parse(text), DEFAULTS).changed).toBe(true);
  });

  it("says no for real SDK reports without secrets, and they indeed need nothing", () => {
    for (const r of [nodeReport, jsReport]) {
      const text = JSON.stringify(r);
      expect(mayNeedScrubbing(text, DEFAULTS)).toBe(false);
      expect(scrubJson(JSON.parse(text), DEFAULTS).changed).toBe(false);
    }
  });

  it("never says no when the full walk would change something (real Sentry and Raygun fixtures, mutated)", () => {
    const texts = [JSON.stringify(nodeReport), JSON.stringify(jsReport)];
    const secrets = [
      '"password":"p"',
      '"token":"t"',
      '"u":"http://a:b@h"',
      '"c":"4111-1111-1111-1111"',
      '"sessionid":"s"',
    ];
    for (const t of texts) {
      for (const s of secrets) {
        const mutated = t.replace(/^\{/, `{${s},`);
        if (scrubJson(JSON.parse(mutated), DEFAULTS).changed)
          expect(mayNeedScrubbing(mutated, DEFAULTS)).toBe(true);
      }
    }
  });

  it("honours sensitiveFields and IP scrubbing", () => {
    expect(mayNeedScrubbing('{"orderNote":"x"}', { ...DEFAULTS, sensitiveFields: ["ordernote"] })).toBe(true);
    expect(mayNeedScrubbing('{"a":1}', { ...DEFAULTS, scrubIpAddresses: true })).toBe(true);
    expect(
      mayNeedScrubbing('{"password":"x"}', { defaults: false, scrubIpAddresses: false, sensitiveFields: [] }),
    ).toBe(false);
  });
});

describe("card number pre-check", () => {
  it.each([
    ["4111111111111111", true],
    ["4111-1111-1111-1111", true],
    ["3782 822463 10005", true], // Amex grouping
    ["order 1764138011003 at", false], // a 13-digit timestamp that fails Luhn
    ["12 34 56", false],
  ])("%s → %s", (s, expected) => {
    expect(mayNeedScrubbing(JSON.stringify({ m: s }), DEFAULTS)).toBe(expected);
    expect(scrubJson({ m: s }, DEFAULTS).changed).toBe(expected);
  });
});
