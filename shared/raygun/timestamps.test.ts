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
