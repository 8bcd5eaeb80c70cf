// Shared fixtures for the filter tests: a typical browser error's filter input, and settings with
// some filters changed.
import { DEFAULT_SETTINGS, type ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";

export const input = (over: Partial<FilterInput> = {}): FilterInput => ({
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

export const withFilters = (f: Partial<ProjectSettings["filters"]>): ProjectSettings => ({
  ...DEFAULT_SETTINGS,
  filters: { ...DEFAULT_SETTINGS.filters, ...f },
});
