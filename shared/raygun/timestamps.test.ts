import { describe, expect, it } from "vitest";
import { epochToIso, parseIsoTimestamp } from "./timestamps";

describe("parseIsoTimestamp", () => {
  const expected = Date.UTC(2015, 8, 8, 1, 55, 28);
  it.each([
    ["2015-09-08T01:55:28Z", expected], // docs, PHP gmdate, Ruby iso8601
    ["2015-09-08T01:55:28.000Z", expected], // JS/Node toJSON
    ["2015-09-08T01:55:28.1234567Z", expected + 123], // .NET 7 fractional digits
    ["2015-09-08T01:55:28.123456+00:00", expected + 123], // Python isoformat
    ["2015-09-08T03:55:28+02:00", expected],
    ["2015-09-07T20:55:28-0500", expected],
    ["2015-09-08T01:55:28", expected], // no zone → UTC
  ])("parses %s", (input, ms) => {
    expect(parseIsoTimestamp(input)).toBe(ms);
  });
  it.each(["", "yesterday", "2015-13-08T01:55:28Z", "2015-09-08", 1441677328000, null])(
    "rejects %s",
    (input) => {
      expect(parseIsoTimestamp(input)).toBeNull();
    },
  );
});

describe("epochToIso", () => {
  it("treats values below 1e12 as seconds (Ruby) and above as milliseconds", () => {
    expect(epochToIso(1441677328)).toBe("2015-09-08T01:55:28.000Z");
    expect(epochToIso(1441677328000)).toBe("2015-09-08T01:55:28.000Z");
    expect(epochToIso("garbage")).toBeNull();
  });
});

describe("parseIsoTimestamp's toISOString fast path", () => {
  // The general parser alone (the regular expression), to compare the fast path against.
  const ISO_RE =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
  function general(v: string): number | null {
    const m = ISO_RE.exec(v.trim());
    if (!m) return null;
    const [, y, mo, d, h, mi] = m.map(Number);
    const s = m[6] === undefined ? 0 : Number(m[6]);
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, s, ms);
    if (Number.isNaN(t) || mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59) return null;
    return t; // the fast path only takes "Z" strings: no offset to apply
  }

  it("agrees with the general parser on every field value and on malformed variants", () => {
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const inputs: string[] = [];
    for (const y of [0, 1970, 2015, 9999])
      for (let mo = 0; mo <= 13; mo++)
        for (const d of [0, 1, 28, 29, 30, 31, 32])
          for (const [h, mi, s] of [
            [0, 0, 0],
            [23, 59, 59],
            [24, 0, 0],
            [12, 60, 0],
            [12, 30, 60],
            [99, 99, 99],
          ]) {
            const base = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h!, 2)}:${pad(mi!, 2)}:${pad(s!, 2)}`;
            inputs.push(`${base}Z`, `${base}.${pad((y + mo * 7 + d) % 1000, 3)}Z`);
          }
    const good = "2015-09-08T01:55:28.123Z";
    for (let i = 0; i < good.length; i++) {
      for (const ch of ["x", " ", "-", ":", ".", "Z", "T", "0", "/", "\u0660"]) {
        inputs.push(good.slice(0, i) + ch + good.slice(i + 1));
      }
    }
    inputs.push("2015-09-08T01:55:28.12Z", "2015-09-08T01:55:28.1234Z", "2015-09-08 01:55:28.123Z");
    for (const input of inputs) expect(parseIsoTimestamp(input), input).toBe(general(input));
  });
});
