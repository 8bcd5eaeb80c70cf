// The failed-login throttle against local D1: per-client limits counted atomically, windows that
// end, no global lockout, and a table that stays bounded however many addresses an attacker has
// without forgetting a client whose window is open (new clients past the bound share one bucket).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { clearLoginFailures, clientKey, countLoginAttempt } from "./login-throttle";

const limits = { windowMs: 60_000, perClient: 3, maxClients: 20 };
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

  it("lets a client make perClient attempts per window, then makes it wait until its window ends", async () => {
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect(await countLoginAttempt(env.DB, "a", t0 + i, limits)).toBe(0);
    expect(await countLoginAttempt(env.DB, "a", t0 + 10, limits)).toBe(60);
    expect(await countLoginAttempt(env.DB, "b", t0 + 10, limits)).toBe(0);
    // A new window starts afresh.
    expect(await countLoginAttempt(env.DB, "a", t0 + 60_000, limits)).toBe(0);
    await clearLoginFailures(env.DB, "a");
    for (let i = 0; i < 3; i++) expect(await countLoginAttempt(env.DB, "a", t0 + 60_001, limits)).toBe(0);
  });

  it("many clients failing never lock out a client with a row, and the table stays bounded", async () => {
    const t0 = 5_000_000;
    // The admin's network failed once before the flood: it keeps its own count throughout.
    expect(await countLoginAttempt(env.DB, "admin", t0 - 1, limits)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const client = `10.0.${i >> 8}.${i & 255}`;
      for (let k = 0; k < limits.perClient; k++) await countLoginAttempt(env.DB, client, t0 + i, limits);
    }
    // maxClients clients of their own and the overflow bucket the rest shared.
    expect(await rows()).toBe(limits.maxClients + 1);
    expect(await countLoginAttempt(env.DB, "admin", t0 + 200, limits)).toBe(0);
    // The first addresses are still throttled (their rows were not forgotten), and so is the flood.
    expect(await countLoginAttempt(env.DB, "10.0.0.0", t0 + 201, limits)).toBeGreaterThan(0);
    expect(await countLoginAttempt(env.DB, "10.0.0.99", t0 + 201, limits)).toBeGreaterThan(0);
    expect(await rows()).toBe(limits.maxClients + 1);
    // Past windows go as soon as a new attempt is counted, and a new client has a row of its own again.
    expect(await countLoginAttempt(env.DB, "fresh", t0 + 200 + limits.windowMs, limits)).toBe(0);
    expect(await rows()).toBe(1);
  });

  it("rotating maxClients + 1 addresses is refused after perClient rounds: no client is forgotten while its window is open", async () => {
    const small = { windowMs: 60_000, perClient: 2, maxClients: 3 };
    const keys = ["a", "b", "c", "d"];
    let t = 7_000_000;
    const allowed: number[] = [];
    for (let round = 0; round < 10; round++) {
      let n = 0;
      for (const k of keys) if ((await countLoginAttempt(env.DB, k, t++, small)) === 0) n++;
      allowed.push(n);
    }
    // Rounds 1-2: a, b, c with rows of their own and d in the overflow bucket; then none at all.
    expect(allowed).toEqual([4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await rows()).toBe(small.maxClients + 1);
  });

  it("new clients beyond maxClients are throttled together in the overflow bucket", async () => {
    const small = { windowMs: 60_000, perClient: 2, maxClients: 3 };
    const t0 = 8_000_000;
    for (const k of ["a", "b", "c"]) expect(await countLoginAttempt(env.DB, k, t0, small)).toBe(0);
    const flood = await Promise.all(
      Array.from({ length: 20 }, (_, i) => countLoginAttempt(env.DB, `new-${i}`, t0 + 1, small)),
    );
    expect(flood.filter((w) => w === 0).length).toBe(small.perClient);
    expect(await rows()).toBe(small.maxClients + 1);
    // The clients with rows still have their own attempts left.
    for (const k of ["a", "b", "c"]) expect(await countLoginAttempt(env.DB, k, t0 + 2, small)).toBe(0);
    // A successful login of a flood client does not reset the shared bucket.
    await clearLoginFailures(env.DB, "new-0");
    expect(await countLoginAttempt(env.DB, "new-0", t0 + 3, small)).toBeGreaterThan(0);
  });

  it("counts concurrent attempts atomically: no more than perClient are let through", async () => {
    const waits = await Promise.all(
      Array.from({ length: 30 }, () => countLoginAttempt(env.DB, "c", 9_000_000, limits)),
    );
    expect(waits.filter((w) => w === 0).length).toBe(limits.perClient);
  });
});
