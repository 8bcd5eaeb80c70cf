import { describe, expect, it } from "vitest";
import { releasesFilter } from "./releases";
import { input, withFilters } from "./test-helpers";

describe("releases filter", () => {
  it("drops releases matching a glob", () => {
    const s = withFilters({ releases: ["1.0.*", "*-DEV"] });
    expect(releasesFilter.check(input(), s)).toBe(true);
    expect(releasesFilter.check(input({ release: "2.0.0-dev" }), s)).toBe(true);
    expect(releasesFilter.check(input({ release: "1.1.0" }), s)).toBe(false);
    expect(releasesFilter.check(input({ release: null }), s)).toBe(false);
  });
});
