// Hard per-minute limits with leases, against the real QuotaCounter Durable Object in workerd: a busy
// isolate asks the object a few times instead of once per report, the limit is never exceeded even
// when an isolate dies holding a lease, and what a lost lease holds back is at most 1/64 of the limit.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SETTINGS, type ProjectSettings } from "../../shared/settings";
import type { ProjectRecord } from "./project-cache";
import { checkCategoryQuota, checkQuota, FALLBACK_MS, resetLocalQuota } from "./quota";
import { LEASE_SHARE } from "./quota-counter";

afterEach(() => {
  resetLocalQuota();
  vi.restoreAllMocks();
});

/** The QUOTA namespace, counting the object requests the edge makes. */
const counted = () => skewed(0);

function project(settings: Partial<ProjectSettings>): ProjectRecord {
  const id = `lease-${crypto.randomUUID()}`;
  return {
    id,
    key: id,
    settings: { ...DEFAULT_SETTINGS, ...settings },
    policy: {} as ProjectRecord["policy"],
  };
}

/**
 * The QUOTA namespace of an object whose clock reads `offsetMs` later than the isolate's, counting
 * the object requests the edge makes.
 */
function skewed(offsetMs: number) {
  const calls = { consume: 0 };
  const quota = {
    idFromName: (name: string) => env.QUOTA.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.QUOTA.get(id);
      return {
        consume: (req: Parameters<typeof stub.consume>[0]) => {
          calls.consume++;
          return stub.consume({ ...req, now: Date.now() + offsetMs });
        },
      };
    },
  };
  return { calls, env: { QUOTA: quota as unknown as typeof env.QUOTA } };
}

const noWait = () => {};
const minuteOf = (t: number) => Math.floor(t / 60_000);

/**
 * Runs `fn` within one clock minute (a counter resets when the minute turns), for a project made
 * fresh for each attempt (a second attempt must not find the first one's counts): tries twice.
 */
async function inOneMinute<T>(
  settings: Partial<ProjectSettings>,
  fn: (p: ProjectRecord) => Promise<T>,
): Promise<{ p: ProjectRecord; out: T }> {
  for (let attempt = 0; ; attempt++) {
    resetLocalQuota();
    const p = project(settings);
    const start = Date.now();
    const out = await fn(p);
    if (minuteOf(Date.now()) === minuteOf(start) || attempt === 1) return { p, out };
  }
}

async function accepted(name: string): Promise<number> {
  // A forced consume of nothing reads the object's count of this minute without changing it.
  const r = await env.QUOTA.get(env.QUOTA.idFromName(name)).consume({
    quantity: 0,
    rateLimitPerMinute: null,
    spikeProtection: false,
    force: true,
  });
  return r.acceptedThisMinute;
}

describe("hard per-minute limits with leases", () => {
  it("a busy isolate asks the object a few times, not once per report, and every unit is counted", async () => {
    const { calls, env: quotaEnv } = counted();
    const { p, out } = await inOneMinute(
      { rateLimitPerMinute: 1_000_000, spikeProtection: false },
      async (p) => {
        calls.consume = 0;
        let n = 0;
        for (let i = 0; i < 3000; i++) n += (await checkQuota(quotaEnv, noWait, p, 1)).admitted;
        return { admitted: n, count: await accepted(p.id) };
      },
    );
    expect(out.admitted).toBe(3000);
    expect(calls.consume).toBeLessThan(300);
    // The object counted every admitted report, and what is leased but not yet spent on top.
    expect(out.count).toBeGreaterThanOrEqual(3000);
    expect(out.count).toBeLessThanOrEqual(3000 + Math.floor(1_000_000 / LEASE_SHARE));
    expect(p.id).toMatch(/^lease-/);
  });

  it("never admits past the limit, even when an isolate dies holding a lease; a lost lease holds back ≤ 1/64", async () => {
    const limit = 6400;
    const {
      p,
      out: { admitted, refused },
    } = await inOneMinute({ rateLimitPerMinute: limit, spikeProtection: false }, async (p) => {
      let n = 0;
      let no = 0;
      for (let i = 0; i < 7000; i++) {
        // The isolate that took the first leases dies a third of the way in; another carries on.
        if (i === 2500) resetLocalQuota();
        const r = await checkQuota(counted().env, noWait, p, 1);
        n += r.admitted;
        if (r.admitted === 0) {
          expect(r.limit).toMatchObject({ reason: "rate_limit" });
          no++;
        }
      }
      return { admitted: n, refused: no };
    });
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit - limit / LEASE_SHARE);
    expect(refused).toBe(7000 - admitted);
    expect(await accepted(p.id)).toBeLessThanOrEqual(limit);
  });

  it("a quiet isolate takes no lease: each request asks the object, and the limit is exact", async () => {
    const { calls, env: quotaEnv } = counted();
    const { out: results } = await inOneMinute(
      { rateLimitPerMinute: 5, spikeProtection: false },
      async (p) => {
        calls.consume = 0;
        const out: number[] = [];
        for (let i = 0; i < 7; i++) out.push((await checkQuota(quotaEnv, noWait, p, 1)).admitted);
        return out;
      },
    );
    expect(results).toEqual([1, 1, 1, 1, 1, 0, 0]);
    // The sixth asked and was refused; the seventh was answered from isolate memory.
    expect(calls.consume).toBe(6);
  });

  it("category quotas lease too; a file that fits what is left is admitted, lease included, and then not one byte more", async () => {
    const { calls, env: quotaEnv } = counted();
    const limit = 64 * 1000;
    const { out } = await inOneMinute({ attachmentBytesPerMinute: limit }, async (p) => {
      calls.consume = 0;
      let n = 0;
      for (let i = 0; i < 2000; i++) n += (await checkCategoryQuota(quotaEnv, p, "attachment", 10)).admitted;
      // What is left of the minute's bytes: part of it is this isolate's lease (counted already).
      const left = limit - n;
      const fits = await checkCategoryQuota(quotaEnv, p, "attachment", left);
      const oneMore = await checkCategoryQuota(quotaEnv, p, "attachment", 1);
      return { n, left, fits: fits.admitted, oneMore: oneMore.admitted, calls: calls.consume };
    });
    expect(out.n).toBe(20_000);
    expect(out.calls).toBeLessThan(400);
    expect(out.fits).toBe(out.left);
    expect(out.oneMore).toBe(0);
  });

  it("requests in flight together take one lease, not one each", async () => {
    const limit = 6_400_000;
    const { p, out } = await inOneMinute({ rateLimitPerMinute: limit, spikeProtection: false }, async (p) => {
      const quotaEnv = counted().env;
      let n = 0;
      // A busy isolate first (so that it leases), then more requests at once than its lease holds.
      for (let i = 0; i < 2000; i++) n += (await checkQuota(quotaEnv, noWait, p, 1)).admitted;
      const burst = await Promise.all(Array.from({ length: 3000 }, () => checkQuota(quotaEnv, noWait, p, 1)));
      n += burst.reduce((a, r) => a + r.admitted, 0);
      return { admitted: n, count: await accepted(p.id) };
    });
    expect(out.admitted).toBe(5000);
    // Counted but not yet spent: at most one lease of this isolate (1/64 of the limit).
    expect(out.count - out.admitted).toBeLessThanOrEqual(limit / LEASE_SHARE);
    expect(p.id).toMatch(/^lease-/);
  });
  it("a counter whose clock is a minute ahead still leases: nothing is thrown away for the clocks' sake", async () => {
    const limit = 1_000_000;
    const { calls, env: quotaEnv } = skewed(60_000);
    const { p, out } = await inOneMinute({ rateLimitPerMinute: limit, spikeProtection: false }, async (p) => {
      calls.consume = 0;
      let n = 0;
      for (let i = 0; i < 3000; i++) n += (await checkQuota(quotaEnv, noWait, p, 1)).admitted;
      const r = await env.QUOTA.get(env.QUOTA.idFromName(p.id)).consume({
        quantity: 0,
        rateLimitPerMinute: null,
        spikeProtection: false,
        force: true,
        now: Date.now() + 60_000,
      });
      return { admitted: n, count: r.acceptedThisMinute, calls: calls.consume };
    });
    expect(out.admitted).toBe(3000);
    expect(out.calls).toBeLessThan(300);
    // Counted but not spent: this isolate's one lease at most, not one thrown away per request.
    expect(out.count - out.admitted).toBeLessThanOrEqual(limit / LEASE_SHARE);
    expect(p.id).toMatch(/^lease-/);
  });

  it("a lease is not spent once the counter's minute is over, whatever the isolate's clock says", async () => {
    const { out } = await inOneMinute(
      { rateLimitPerMinute: 1_000_000, spikeProtection: false },
      async (p) => {
        // The counter's minute ends 1.5 s from now on the isolate's clock, in the middle of its minute.
        const t0 = Date.now();
        const turn = t0 + 1500;
        const { calls, env: quotaEnv } = skewed(Math.ceil(t0 / 60_000) * 60_000 + 60_000 - turn);
        let requests = 0;
        while (Date.now() < t0 + 1000) {
          expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
          requests++;
        }
        const busyCalls = calls.consume;
        await new Promise((r) => setTimeout(r, Math.max(0, turn + 100 - Date.now())));
        // The isolate still holds units of its last lease, counted in the minute that is over: spent
        // now, they would be admitted in a minute that never counted them.
        const before = calls.consume;
        expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
        return { requests, busyCalls, askedAfterTurn: calls.consume - before };
      },
    );
    expect(out.busyCalls).toBeLessThan(out.requests / 2);
    expect(out.askedAfterTurn).toBe(1);
  });
});

/**
 * The QUOTA namespace of a counter that fails while `down.now` (overloaded, resetting): its consume
 * rejects, or, with `how: "get"`, getting the stub throws at once. Up, it is the real object (told
 * the isolate's clock, so a test may move that clock).
 */
function failing(how: "consume" | "get" = "consume") {
  const calls = { consume: 0 };
  const down = { now: true };
  const quota = {
    idFromName: (name: string) => env.QUOTA.idFromName(name),
    get: (id: DurableObjectId) => {
      if (down.now && how === "get") throw new Error("Durable Object namespace unavailable");
      const stub = env.QUOTA.get(id);
      return {
        consume: async (req: Parameters<typeof stub.consume>[0]) => {
          calls.consume++;
          if (down.now) throw new Error("Durable Object is overloaded. Too many requests queued.");
          return stub.consume({ ...req, now: Date.now() });
        },
      };
    },
  };
  return { calls, down, env: { QUOTA: quota as unknown as typeof env.QUOTA } };
}

/** Pins the isolate's clock `ms` into the current minute (the tests below must not see it turn). */
function clockAt(ms: number) {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const clock = vi.spyOn(Date, "now");
  const at = (offset: number) => clock.mockReturnValue(minute + ms + offset);
  at(0);
  return at;
}

describe("a counter that fails", () => {
  it("admits (fails open), logs once, and does not ask the counter again for FALLBACK_MS", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { calls, env: quotaEnv } = failing();
    const p = project({ rateLimitPerMinute: 1000, spikeProtection: true });
    clockAt(10_000);
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await checkQuota(quotaEnv, noWait, p, 1));
    expect(results.every((r) => r.admitted === 1 && r.limit === null)).toBe(true);
    expect(calls.consume).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/quota counter failed.*overloaded/);
  });

  it("a flood of failures logs at most once a minute per isolate", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { env: quotaEnv } = failing();
    const at = clockAt(0);
    // Many projects at once, each asking its own failing counter.
    const ps = Array.from({ length: 50 }, () =>
      project({ rateLimitPerMinute: 1000, spikeProtection: false }),
    );
    for (const p of ps) expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
    at(FALLBACK_MS + 1);
    for (const p of ps) expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("while it is down, the isolate enforces the limit from its own count, with a rate_limit answer", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { env: quotaEnv } = failing();
    const p = project({ rateLimitPerMinute: 5, spikeProtection: false });
    clockAt(10_000);
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await checkQuota(quotaEnv, noWait, p, 1));
    expect(results.map((r) => r.admitted)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(results[5]?.limit).toMatchObject({ reason: "rate_limit", retryAfterSeconds: 50 });
  });

  it("after FALLBACK_MS it asks the counter again, and counts there once it is back", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { calls, down, env: quotaEnv } = failing();
    const p = project({ rateLimitPerMinute: 100, spikeProtection: false });
    const at = clockAt(10_000);
    expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
    at(FALLBACK_MS - 1);
    expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
    expect(calls.consume).toBe(1);
    down.now = false;
    at(FALLBACK_MS);
    expect((await checkQuota(quotaEnv, noWait, p, 1)).admitted).toBe(1);
    expect(calls.consume).toBe(2);
    // The counter counts from its return: what was admitted while it was down was the isolate's.
    const r = await env.QUOTA.get(env.QUOTA.idFromName(p.id)).consume({
      quantity: 0,
      rateLimitPerMinute: null,
      spikeProtection: false,
      force: true,
      now: Date.now(),
    });
    expect(r.acceptedThisMinute).toBe(1);
  });

  it("a namespace that throws at once fails open too", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { env: quotaEnv } = failing("get");
    const p = project({ rateLimitPerMinute: 10, spikeProtection: false, sessionsPerMinute: 10 });
    expect((await checkQuota(quotaEnv, noWait, p, 3)).admitted).toBe(3);
    expect((await checkCategoryQuota(quotaEnv, p, "session", 2)).admitted).toBe(2);
  });

  it("category quotas fail open as well, attachments all or nothing against the isolate's count", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { env: quotaEnv } = failing();
    const p = project({ rateLimitPerMinute: 10, sessionsPerMinute: 10, attachmentBytesPerMinute: 100 });
    clockAt(10_000);
    expect(await checkCategoryQuota(quotaEnv, p, "session", 4)).toEqual({ admitted: 4, limit: null });
    expect(await checkCategoryQuota(quotaEnv, p, "replay", 2)).toEqual({ admitted: 2, limit: null });
    expect(await checkCategoryQuota(quotaEnv, p, "attachment", 60)).toEqual({ admitted: 60, limit: null });
    const over = await checkCategoryQuota(quotaEnv, p, "attachment", 60);
    expect(over.admitted).toBe(0);
    expect(over.limit).toMatchObject({ reason: "rate_limit" });
  });
});
