import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../settings";
import { clientIpsFilter } from "./client-ips";
import { input, withFilters } from "./test-helpers";

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
