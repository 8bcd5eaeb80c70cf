import { describe, expect, it } from "vitest";
import { compileIpSet, parseIp } from "./ip";

describe("ip sets", () => {
  it("match single addresses and v4 CIDRs, including IPv4-mapped v6 clients", () => {
    const s = compileIpSet(["10.0.0.0/8", "192.168.1.7", "not-an-ip", "1.2.3.4/40"]);
    expect(s.size).toBe(2);
    expect(s.has("10.200.3.4")).toBe(true);
    expect(s.has("11.0.0.1")).toBe(false);
    expect(s.has("192.168.1.7")).toBe(true);
    expect(s.has("::ffff:10.1.1.1")).toBe(true);
    expect(s.has(null)).toBe(false);
    expect(s.has("garbage")).toBe(false);
  });
  it("match v6 addresses and prefixes", () => {
    const s = compileIpSet(["2001:db8::/32", "::1", "fe80::1%eth0"]);
    expect(s.has("2001:db8:ffff::1")).toBe(true);
    expect(s.has("2001:db9::1")).toBe(false);
    expect(s.has("0:0:0:0:0:0:0:1")).toBe(true);
    expect(s.has("[::1]")).toBe(true);
    expect(s.has("fe80::1")).toBe(true);
  });
  it("reject malformed addresses", () => {
    for (const bad of ["1.2.3", "1.2.3.256", "1::2::3", "12345::", "1.2.3.4::", "a:b:c:d:e:f:0:1:2"]) {
      expect(parseIp(bad), bad).toBeNull();
    }
    expect(parseIp("::ffff:1.2.3.4")).not.toBeNull();
  });
});
