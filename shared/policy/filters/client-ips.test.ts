import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";
import { clientIpsFilter } from "./client-ips";

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

describe("client-ips filter", () => {
  it("drops listed IPs and CIDR ranges, v4 and v6", () => {
    const s = withFilters({ ipAddresses: ["203.0.113.0/24", "2001:db8::/32"] });
    expect(clientIpsFilter.check(input(), s)).toBe(true);
    expect(clientIpsFilter.check(input({ clientIp: "2001:db8::7" }), s)).toBe(true);
    expect(clientIpsFilter.check(input({ clientIp: "198.51.100.1" }), s)).toBe(false);
    expect(clientIpsFilter.check(input({ clientIp: null }), s)).toBe(false);
  });
  it("does nothing with an empty list", () => {
    expect(clientIpsFilter.check(input(), DEFAULT_SETTINGS)).toBe(false);
  });
});
