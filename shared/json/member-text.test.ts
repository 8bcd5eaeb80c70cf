import { describe, expect, it } from "vitest";
import { getCI } from "./case-insensitive";
import { memberTextCI } from "./member-text";

/** A deterministic pseudo-random generator, so a failure replays. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

describe("memberTextCI", () => {
  it("returns the member's exact text, as sent", () => {
    const text =
      ' {"a" : {"eventData":0}, "s":"\\"}{[", "EventData" :\n [ {"x" : 1.0} , "]" ]\n, "n": -1e3 }';
    expect(memberTextCI(text, "eventData")).toBe('[ {"x" : 1.0} , "]" ]');
    expect(memberTextCI(text, "n")).toBe("-1e3");
    expect(memberTextCI(text, "s")).toBe('"\\"}{["');
    expect(memberTextCI(text, "missing")).toBeNull();
    expect(memberTextCI("{}", "eventData")).toBeNull();
    expect(memberTextCI('{"eventData":true}', "eventData")).toBe("true");
  });

  it("picks what getCI picks: the exact key first, else the first key in any case; a repeated key's last value", () => {
    const cases = [
      '{"EventData":[1],"eventData":[2]}',
      '{"eventData":[2],"EventData":[1]}',
      '{"EVENTDATA":[1],"EventData":[2],"EVENTDATA":[3]}',
      '{"eventData":[1],"eventData":[2]}',
      '{"event\\u0044ata":[1],"EventData":[2]}',
      '{"eventdata":[1]}',
    ];
    for (const text of cases) {
      expect(JSON.parse(memberTextCI(text, "eventData")!), text).toEqual(
        getCI(JSON.parse(text), "eventData"),
      );
    }
  });

  it("agrees with getCI(JSON.parse) on 2,000 random objects of hostile keys, values and whitespace", () => {
    const r = rng(7);
    const keys = [
      "eventData",
      "EventData",
      "EVENTDATA",
      "event\\u0044ata",
      "other",
      'q\\"}',
      "",
      "__proto__",
    ];
    const values = [
      '"}]"',
      '"\\\\"',
      '[1, {"eventData": 2}]',
      '{"a":[{}]}',
      "-0.5e-3",
      "null",
      "true",
      '"é😀\\u2028"',
    ];
    const ws = () => pick(r, [" ", "\n", "\t", "\r\n", ""]);
    for (let n = 0; n < 2000; n++) {
      const members = Array.from(
        { length: Math.floor(r() * 6) },
        () => `${ws()}"${pick(r, keys)}"${ws()}:${ws()}${pick(r, values)}${ws()}`,
      );
      const text = `${ws()}{${members.join(",")}${ws()}}${ws()}`;
      const found = memberTextCI(text, "eventData");
      const expected = getCI(JSON.parse(text), "eventData");
      expect(found === null ? undefined : JSON.parse(found), text).toEqual(expected);
      if (found !== null) expect(found.trim()).toBe(found);
    }
  });

  it("is linear: a 4 MB object of strings full of escaped quotes is scanned quickly", () => {
    const value = JSON.stringify('\\"'.repeat(20_000));
    const text = `{${Array.from({ length: 100 }, (_, i) => `"k${i}":[${value}]`).join(",")},"eventData":[1]}`;
    const t0 = performance.now();
    expect(memberTextCI(text, "eventData")).toBe("[1]");
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
