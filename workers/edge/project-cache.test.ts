// Unknown ingest keys (issue #12.9), against the real local D1: random well-formed keys cost neither
// a D1 query each nor a real project's cache slot; real projects, cached or not, still resolve.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { randomHex } from "../../shared/ids";
import { call, createTestProject } from "../../test/helpers";
import { clearProjectCache, lookupProject, RECHECK_BURST, RECHECKS_PER_SECOND } from "./project-cache";

/** The real D1, counting the statements prepared on it. */
function countingDb(): { db: D1Database; queries: () => number } {
  let n = 0;
  const db = {
    prepare: (sql: string) => {
      n++;
      return env.DB.prepare(sql);
    },
  } as unknown as D1Database;
  return { db, queries: () => n };
}

beforeEach(() => clearProjectCache());

describe("project cache", () => {
  it("10,000 random unknown keys neither evict a real project nor cost 10,000 D1 queries", async () => {
    const cached = await createTestProject("cached");
    const cold = await createTestProject("cold");
    const { db, queries } = countingDb();
    expect((await lookupProject(db, cached.key, 30))?.id).toBe(cached.id);
    expect(queries()).toBe(1);

    const unknown = Array.from({ length: 10_000 }, () => randomHex(16));
    const burst = 50;
    const started = Date.now();
    /** Re-checks of keys a loaded bucket lacks are rate-limited per isolate: at most this many so far. */
    const recheckAllowance = () =>
      RECHECK_BURST + Math.ceil(((Date.now() - started) / 1000) * RECHECKS_PER_SECOND);
    for (let i = 0; i < unknown.length; i += burst) {
      const answers = await Promise.all(unknown.slice(i, i + burst).map((k) => lookupProject(db, k, 30)));
      expect(answers.every((a) => a === null)).toBe(true);
    }
    // At most two queries per two-hex-digit prefix (the key itself, then its bucket), plus keys of a
    // concurrent burst that arrived before their bucket's load began.
    expect(queries() - 1).toBeLessThanOrEqual(2 * 256 + burst + recheckAllowance());

    const before = queries();
    expect((await lookupProject(db, cached.key, 30))?.id).toBe(cached.id);
    expect(queries()).toBe(before); // still cached
    // A real project never looked up before resolves through its (loaded) bucket.
    expect((await lookupProject(db, cold.key, 30))?.id).toBe(cold.id);
    expect(queries()).toBe(before + 1);
    // And unknown keys stay answered from memory, but for the rate-limited re-checks.
    for (const k of unknown.slice(0, 100)) expect(await lookupProject(db, k, 30)).toBeNull();
    expect(queries() - (before + 1)).toBeLessThanOrEqual(recheckAllowance());
  });

  it("a project created after its prefix's bucket was loaded is served at once; a flood's re-checks stay rate-limited", async () => {
    const { db, queries } = countingDb();
    // Load every prefix's bucket with unknown keys, then create a project: its key is in no bucket.
    for (let i = 0; i < 256; i++) {
      const prefix = i.toString(16).padStart(2, "0");
      expect(await lookupProject(db, prefix + "0".repeat(30), 30)).toBeNull();
    }
    const fresh = await createTestProject("after-the-buckets");
    await new Promise((r) => setTimeout(r, 1000 / RECHECKS_PER_SECOND + 50)); // a token is back
    expect((await lookupProject(db, fresh.key, 30))?.id).toBe(fresh.id);
    // A flood of keys absent from their buckets costs at most the re-check rate in D1 queries.
    const started = Date.now();
    const before = queries();
    for (let i = 0; i < 2_000; i++) expect(await lookupProject(db, randomHex(16), 30)).toBeNull();
    const allowance = RECHECK_BURST + Math.ceil(((Date.now() - started) / 1000) * RECHECKS_PER_SECOND);
    expect(queries() - before).toBeLessThanOrEqual(allowance);
  });

  it("a key D1 denies although its bucket lists it (rotated away) is remembered, not re-queried", async () => {
    const p = await createTestProject("rotated");
    const { db, queries } = countingDb();
    // Load the bucket of p's prefix through an unknown key with the same prefix.
    const sibling = p.key.slice(0, 2) + (p.key[2] === "0" ? "1" : "0").repeat(30);
    expect(await lookupProject(db, sibling, 30)).toBeNull();
    const rotate = await call(`/api/v1/projects/${p.id}/keys/rotate`, {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token" },
    });
    expect(rotate.status).toBeLessThan(300);
    const before = queries();
    expect(await lookupProject(db, p.key, 30)).toBeNull();
    expect(await lookupProject(db, p.key, 30)).toBeNull();
    expect(queries()).toBe(before + 1);
  });

  it("unknown keys through the edge get 403 and leave real projects serving", async () => {
    const p = await createTestProject("edge-unknown");
    const body = JSON.stringify({
      occurredOn: new Date().toISOString(),
      details: { error: { className: "E", message: "m", stackTrace: [] } },
    });
    for (let i = 0; i < 200; i++) {
      const r = await call(`/entries?apikey=${randomHex(16)}`, { method: "POST", body });
      expect(r.status).toBe(403);
    }
    expect((await call(`/entries?apikey=${p.key}`, { method: "POST", body })).status).toBe(202);
  });
});
