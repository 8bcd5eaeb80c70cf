// The failed-login throttle against local D1: per-client and global limits, windows that end, and
// a table that stays bounded however many client addresses an attacker has.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearLoginFailures, clientKey, loginRetryAfter, recordLoginFailure } from "./login-throttle";

const limits = { windowMs: 60_000, perClient: 3, global: 20 };
const rows = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM console_login_failures").first<{ n: number }>())!.n;

describe("clientKey", () => {
  it("keeps IPv4, cuts IPv6 to its /64, and names a missing address", () => {
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientKey("2001:DB8:0:1:2:3:4:5")).toBe("2001:db8:0:1::/64");
    expect(clientKey("2001:db8:0:1::9")).toBe("2001:db8:0:1::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("2001:0db8:0000:0001::")).toBe("2001:db8:0:1::/64");
    expect(clientKey(undefined)).toBe("unknown");
    expect(clientKey("x".repeat(10_000)).length).toBeLessThanOrEqual(64);
  });
});

describe("login throttle", () => {
  beforeEach(async () => {
    await env.DB.prepare("DELETE FROM console_login_failures").run();
  });

  it("blocks a client after perClient failures until its window ends", async () => {
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(await loginRetryAfter(env.DB, "a", t0 + i, limits)).toBe(0);
      await recordLoginFailure(env.DB, "a", t0 + i, limits);
    }
    expect(await loginRetryAfter(env.DB, "a", t0 + 10, limits)).toBe(60);
    expect(await loginRetryAfter(env.DB, "b", t0 + 10, limits)).toBe(0);
    expect(await loginRetryAfter(env.DB, "a", t0 + 60_000, limits)).toBe(0);
    await clearLoginFailures(env.DB, "a");
    expect(await loginRetryAfter(env.DB, "a", t0 + 10, limits)).toBe(0);
  });

  it("blocks everyone after `global` failures, so the table never outgrows the global limit", async () => {
    const t0 = 5_000_000;
    let recorded = 0;
    for (let i = 0; i < 100; i++) {
      const client = `10.0.${i >> 8}.${i & 255}`;
      if ((await loginRetryAfter(env.DB, client, t0 + i, limits)) > 0) continue;
      await recordLoginFailure(env.DB, client, t0 + i, limits);
      recorded++;
    }
    expect(recorded).toBe(20);
    expect(await rows()).toBe(21);
    expect(await loginRetryAfter(env.DB, "fresh", t0 + 200, limits)).toBeGreaterThan(0);
    // The next window starts empty: old rows go as soon as a new failure is written.
    const t1 = t0 + 200 + limits.windowMs;
    expect(await loginRetryAfter(env.DB, "fresh", t1, limits)).toBe(0);
    await recordLoginFailure(env.DB, "fresh", t1, limits);
    expect(await rows()).toBe(2);
  });
});
