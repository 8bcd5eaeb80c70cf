import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";
import { releasesFilter } from "./releases";

const input = (over: Partial<FilterInput> = {}): FilterInput => ({
  category: "error",
  clientIp: "203.0.113.5",
  userAgent:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
  release: "1.0.0",
  messages: ["Error: boom", "boom"],
  url: "https://app.example.com/page",
  host: "app.example.com",
  frameFilenames: ["https://app.example.com/app.js"],
  ...over,
});
const withFilters = (f: Partial<ProjectSettings["filters"]>): ProjectSettings => ({
  ...DEFAULT_SETTINGS,
  filters: { ...DEFAULT_SETTINGS.filters, ...f },
});

describe("releases filter", () => {
  it("drops releases matching a glob", () => {
    const s = withFilters({ releases: ["1.0.*", "*-DEV"] });
    expect(releasesFilter.check(input(), s)).toBe(true);
    expect(releasesFilter.check(input({ release: "2.0.0-dev" }), s)).toBe(true);
    expect(releasesFilter.check(input({ release: "1.1.0" }), s)).toBe(false);
    expect(releasesFilter.check(input({ release: null }), s)).toBe(false);
  });
});
