import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";
import { errorMessagesFilter } from "./error-messages";

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

describe("error-messages filter", () => {
  it("matches any candidate, with or without the type, case-insensitively", () => {
    const s = withFilters({ errorMessages: ["*resizeobserver loop*", "TypeError: ?"] });
    const resize = ["Error: ResizeObserver loop limit exceeded", "ResizeObserver loop limit exceeded"];
    expect(errorMessagesFilter.check(input({ messages: resize }), s)).toBe(true);
    expect(errorMessagesFilter.check(input({ messages: ["TypeError: x", "x"] }), s)).toBe(true);
    expect(errorMessagesFilter.check(input({ messages: ["TypeError: xy", "xy"] }), s)).toBe(false);
    expect(errorMessagesFilter.check(input({ messages: [] }), s)).toBe(false);
  });
  it("an exact glob matches the bare value too", () => {
    const s = withFilters({ errorMessages: ["Script error."] });
    expect(errorMessagesFilter.check(input({ messages: ["Error: Script error.", "Script error."] }), s)).toBe(
      true,
    );
  });
});
