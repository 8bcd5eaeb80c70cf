import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../settings";
import { compiledFilters } from "./compiled";
import { applyInboundFilters, INBOUND_FILTERS } from "./index";
import { input, withFilters } from "./test-helpers";

describe("applyInboundFilters", () => {
  it("runs the filters in Relay's order", () => {
    expect(INBOUND_FILTERS.map((f) => f.name)).toEqual([
      "ip-address",
      "release-version",
      "error-message",
      "localhost",
      "browser-extensions",
      "legacy-browsers",
      "web-crawlers",
    ]);
  });
  it("returns the first dropping filter's name, else null", () => {
    const s = withFilters({ releases: ["1.*"], errorMessages: ["*boom*"], localhost: true });
    expect(applyInboundFilters(input({ userAgent: "Googlebot/2.1" }), s)).toBe("release-version");
    expect(applyInboundFilters(input({ release: "2.0", userAgent: "Googlebot/2.1" }), s)).toBe(
      "error-message",
    );
    expect(applyInboundFilters(input({ release: "2.0", messages: [], userAgent: "Googlebot/2.1" }), s)).toBe(
      "web-crawlers",
    );
    expect(applyInboundFilters(input(), DEFAULT_SETTINGS)).toBeNull();
  });
  it("compiles each settings object once", () => {
    const s = withFilters({ releases: ["1.*"] });
    const a = compiledFilters(s);
    applyInboundFilters(input(), s);
    expect(compiledFilters(s)).toBe(a);
    expect(compiledFilters(withFilters({ releases: ["1.*"] }))).not.toBe(a);
  });
  it("is cheap on the hot path", () => {
    const s = withFilters({
      releases: ["9.*"],
      errorMessages: ["*nothing*", "x?y"],
      ipAddresses: ["10.0.0.0/8"],
    });
    const i = input();
    const t0 = performance.now();
    for (let n = 0; n < 20_000; n++) applyInboundFilters(i, s);
    // Generous bound: a regression to per-call compilation is orders of magnitude slower.
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
