// Retention's segment pass reads due rows only, inside workerd against real local D1 and R2: the
// processor writes one row per segment (on a home shard, however many shards the batch touches)
// with the time its first share expires; retention reads rows by that time (rows kept for years are
// never read before then), deletes each project's share on time and the object with the last one,
// pages are bounded in bytes, and a lowered retention still reaches rows a processor wrote
// afterwards with the project's old retention.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { projectShards, shardDbs } from "../../shared/db/shards";
import { DEFAULT_SETTINGS } from "../../shared/settings";
import { segmentKey } from "../../shared/storage/segments";
import { api, createTestProject, metaDbOf, setRetention, type TestProject } from "../../test/helpers";
import { segmentHome } from "./d1-writes";
import { DUE_SEGMENTS_SQL, runRetention } from "./retention";
import { batchBody, deliver, raygunItem, segmentRowsOf } from "./test-helpers";

const DAY = 86_400_000;

const rowsOf = segmentRowsOf;

/** An item of `p` as the edge sends it, with the retention its cached policy says. */
const itemOf = (p: TestProject, retentionDays: number) =>
  raygunItem(p, { policy: { scrubbing: DEFAULT_SETTINGS.scrubbing, retentionDays } });

/** `n` segment rows (and R2 objects) on `db`, created at `created`, due at `due` + i. */
async function insertRows(
  db: D1Database,
  n: number,
  created: number,
  due: number,
  contents: () => string,
): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = segmentKey(created, `due-${crypto.randomUUID()}`);
    await env.BLOBS.put(key, "x");
    await db
      .prepare(
        "INSERT INTO segments (key, created_at, bytes, event_count, contents, expires_at, shards) VALUES (?, ?, 1, 1, ?, ?, '[]')",
      )
      .bind(key, created, contents(), due + i)
      .run();
    keys.push(key);
  }
  return keys;
}

/** How many of `keys` still have a row on `db`. */
const countKeys = async (db: D1Database, keys: string[]): Promise<number> =>
  (
    await db
      .prepare("SELECT count(*) AS n FROM segments WHERE key IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(keys))
      .first<{ n: number }>()
  )?.n ?? 0;

async function onShard(p: TestProject, shard: number) {
  if ((await projectShards(env, [p.id])).get(p.id) === shard) return;
  const r = await api(`/api/v1/projects/${p.id}/shard`, { method: "POST", body: JSON.stringify({ shard }) });
  expect(r.status).toBe(200);
}

describe("retention's due segment rows", () => {
  // First: the other tests lower retentions too, and their walks would reach this row as well.
  it("a lowered retention reaches a row a processor wrote after it with the old retention", async () => {
    const p = await createTestProject("due-lowered");
    await setRetention(p, 90);
    await setRetention(p, 30);
    // The run after the change starts the walk.
    const changed = Date.now();
    expect((await runRetention(env, changed)).errors).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    // Then a batch whose items the edge sent with its cached 90 days (or that waited in the queue):
    // the row says 90 days.
    await deliver([batchBody([itemOf(p, 90)])]);
    const [row] = await rowsOf(p);
    expect(row?.expires_at).toBe(row!.created_at + 90 * DAY);
    expect(row!.created_at).toBeGreaterThan(changed);
    // 30 days after the change the walk has passed every row older than the change, not this one.
    expect((await runRetention(env, changed + 30 * DAY + 1)).errors).toEqual([]);
    expect(await rowsOf(p)).toHaveLength(1);
    // When the row is 30 days old, the walk (still going) reaches it.
    const later = await runRetention(env, row!.created_at + 30 * DAY + 1);
    expect(later.errors).toEqual([]);
    expect(await rowsOf(p)).toEqual([]);
    expect(await env.BLOBS.head(row!.key)).toBeNull();
    // Once no row with the old retention can come any more, the walk ends.
    const walks = async () =>
      (
        await Promise.all(
          shardDbs(env).map((d) =>
            d
              .prepare("SELECT count(*) AS n FROM sweep_cursors WHERE prefix = 'retention:segments:walk:30'")
              .first<{
                n: number;
              }>(),
          ),
        )
      ).reduce((sum, r) => sum + (r?.n ?? 0), 0);
    expect(await walks()).toBe(shardDbs(env).length);
    expect((await runRetention(env, Date.now() + 40 * DAY)).errors).toEqual([]);
    expect(await walks()).toBe(0);
  });
  it("the processor writes one row per batch, on its home shard, due when its first share expires; each share goes on time, the object with the last", async () => {
    const [short, long] = await Promise.all([createTestProject("due-1d"), createTestProject("due-30d")]);
    await setRetention(short, 1);
    await setRetention(long, 30);
    await onShard(short, 0);
    await onShard(long, 1);
    const { result } = await deliver([batchBody([itemOf(short, 1), itemOf(long, 30)])]);
    expect(result.retryMessages).toEqual([]);
    // One row names the object, on the shard its key hashes to, whichever shards the projects use.
    const [row, ...more] = await rowsOf(short);
    expect(more).toEqual([]);
    expect(await rowsOf(long)).toEqual([row]);
    expect(row!.shard).toBe(segmentHome(row!.key, shardDbs(env).length));
    expect(row!.expires_at).toBe(row!.created_at + DAY);
    expect(JSON.parse(row!.shards!)).toEqual([]);

    // A day on: the 1-day share goes, and the object stays for the 30-day share, due in 30 days.
    const first = await runRetention(env, row!.created_at + DAY + 1);
    expect(first.errors).toEqual([]);
    expect(await rowsOf(short)).toEqual([]);
    const [kept] = await rowsOf(long);
    expect(kept?.expires_at).toBe(row!.created_at + 30 * DAY);
    expect(await env.BLOBS.head(row!.key)).not.toBeNull();
    // 30 days on, the last share goes and the object with it.
    const last = await runRetention(env, row!.created_at + 30 * DAY + 1);
    expect(last.errors).toEqual([]);
    expect(await rowsOf(long)).toEqual([]);
    expect(await env.BLOBS.head(row!.key)).toBeNull();
  });

  it("a batch spread over every shard writes one segment row, not one per shard", async () => {
    const dbs = shardDbs(env);
    const projects: TestProject[] = [];
    for (const [i] of dbs.entries()) {
      const p = await createTestProject(`due-spread-${i}`);
      await onShard(p, i);
      projects.push(p);
    }
    const { result } = await deliver([batchBody(projects.map((p) => itemOf(p, 90)))]);
    expect(result.retryMessages).toEqual([]);
    const rows = (await Promise.all(projects.map(rowsOf))).flat();
    expect(new Set(rows.map((r) => `${r.shard}:${r.key}`)).size).toBe(1);
  });

  it("writes the row before any shard's transaction: when it fails, no shard records the batch, and the retry counts it once", async () => {
    const p = await createTestProject("due-row-fails");
    const db = await metaDbOf(p.id);
    // Every shard refuses the segment row (the home shard is whichever the batch's key hashes to).
    const failing = { ...env } as Record<string, unknown>;
    for (const [i, shard] of shardDbs(env).entries())
      failing[`DB_SHARD_${i}`] = new Proxy(shard, {
        get(target, prop) {
          if (prop === "prepare")
            return (query: string) => {
              if (/INSERT INTO segments/.test(query)) throw new Error("injected segment row failure");
              return target.prepare(query);
            };
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const body = batchBody([itemOf(p, 90)]);
    const counted = async () =>
      (
        await db
          .prepare("SELECT count(*) AS n FROM outcomes WHERE project_id = ?")
          .bind(p.id)
          .first<{ n: number }>()
      )?.n;
    const failed = await deliver([body], { environment: failing });
    expect(failed.result.retryMessages.length + (failed.result.retryBatch.retry ? 1 : 0)).toBeGreaterThan(0);
    expect(await counted()).toBe(0);
    expect(await rowsOf(p)).toEqual([]);
    // Redelivered: stored and counted once, named by one row.
    const ok = await deliver([body], { attempts: 2 });
    expect(ok.result.retryMessages).toEqual([]);
    expect(await counted()).toBe(1);
    expect(await rowsOf(p)).toHaveLength(1);
  });

  it("reads no row before it is due: 1,000 older rows kept for years are not read on the way to one due row", async () => {
    const [p, kept] = await Promise.all([createTestProject("due-one"), createTestProject("due-kept")]);
    await setRetention(p, 1);
    await setRetention(kept, 3650);
    const db = await metaDbOf(p.id);
    const now = Date.now();
    // A first run settles whatever rows earlier tests left due.
    expect((await runRetention(env, now)).errors).toEqual([]);
    // 1,000 rows of the 10-year project, 100 days old (written before the due row, as a processor
    // would have), and one row of the 1-day project, 2 days old.
    await db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO segments (key, created_at, bytes, event_count, contents, expires_at, shards)
         SELECT 'segments/test/kept-' || ?1 || '-' || i, ?2 + i, 1, 1, json_object(?3, json_object('n', 1, 'ids', json('[]'))),
           ?2 + i + 3650 * 86400000, '[]' FROM n`,
      )
      .bind(crypto.randomUUID(), now - 100 * DAY, kept.id)
      .run();
    const key = segmentKey(now - 2 * DAY, `due-${crypto.randomUUID()}`);
    await env.BLOBS.put(key, "x");
    await db
      .prepare(
        "INSERT INTO segments (key, created_at, bytes, event_count, contents, expires_at, shards) VALUES (?, ?, 1, 1, ?, ?, '[]')",
      )
      .bind(key, now - 2 * DAY, JSON.stringify({ [p.id]: { n: 1, ids: [] } }), now - DAY)
      .run();

    // One page of 50 rows is enough: the due row is the only one read.
    const report = await runRetention(env, now, { segmentPage: 50, segmentPages: 1 });
    expect(report.errors).toEqual([]);
    expect(await db.prepare("SELECT 1 AS x FROM segments WHERE key = ?").bind(key).first()).toBeNull();
    expect(await env.BLOBS.head(key)).toBeNull();
    expect(report.segmentsExamined).toBe(1);
    const left = await db
      .prepare(
        "SELECT count(*) AS n FROM segments WHERE json_type(contents, '$.\"' || ? || '\"') IS NOT NULL",
      )
      .bind(kept.id)
      .first<{ n: number }>();
    expect(left?.n).toBe(1000);
  });

  it("reads a page of due rows as a range of the expiry index, never a scan of the table (EXPLAIN QUERY PLAN)", async () => {
    const plan = (
      await shardDbs(env)[0]!
        .prepare(`EXPLAIN QUERY PLAN ${DUE_SEGMENTS_SQL}`)
        .bind(Date.now(), 250, 4_000_000)
        .all<{ detail: string }>()
    ).results.map((r) => r.detail);
    expect(plan.join("\n")).toMatch(/SEARCH segments USING INDEX segments_expires_at \(expires_at<\?\)/);
    // The LIMIT is inside: what is sorted after it (the byte cut's order) is the page, not the table.
    expect(plan.join("\n")).not.toMatch(/SCAN segments/);
  });

  it("cuts a page of rows with long contents at its byte budget, and the next pages go on", async () => {
    // A 90-day project's rows, an hour old but due (the edge's retention may be stale), so only
    // the due lane reads them (the walks of the lowered retentions above read rows a day old).
    const p = await createTestProject("due-bytes");
    const db = await metaDbOf(p.id);
    const now = Date.now();
    expect((await runRetention(env, now)).errors).toEqual([]);
    // 10 rows of ~300 KB each: 8,000 pointer-row ids apiece (items kept without a search
    // document, one id each, as many as a key holder sends).
    const ids = Array.from({ length: 8000 }, (_, i) => `${String(i).padStart(32, "0")}`);
    const created = now - 3600_000;
    const keys = await insertRows(db, 10, created, created + 1, () =>
      JSON.stringify({ [p.id]: { n: ids.length, ids } }),
    );
    const due = async () =>
      (
        await db
          .prepare(
            "SELECT count(*) AS n FROM segments WHERE key IN (SELECT value FROM json_each(?)) AND expires_at < ?",
          )
          .bind(JSON.stringify(keys), now)
          .first<{ n: number }>()
      )?.n;
    // A 1 MB page takes the rows that start below it: 0, 300, 600 and 900 KB, so 4 of them (kept,
    // and due again in 90 days).
    const first = await runRetention(env, now, { segmentBytes: 1_000_000, segmentPages: 1 });
    expect(first.errors).toEqual([]);
    expect(first.segmentsExamined).toBe(4);
    expect(await due()).toBe(6);
    // A page cut by bytes is not the end of the lane: the next pages of a run take the rest.
    const second = await runRetention(env, now, { segmentBytes: 1_000_000, segmentPages: 3 });
    expect(second.errors).toEqual([]);
    expect(second.segmentsExamined).toBe(6);
    expect(await due()).toBe(0);
    expect(await countKeys(db, keys)).toBe(10);
  });

  it("gives every shard's due lane its turn: a shard with a backlog does not hold up the last one", async () => {
    const p = await createTestProject("due-turns");
    const dbs = shardDbs(env);
    const now = Date.now();
    expect((await runRetention(env, now)).errors).toEqual([]);
    const created = now - 100 * DAY;
    const contents = () => JSON.stringify({ [p.id]: { n: 1, ids: [] } });
    // 10 due rows on the first shard, one on the last; a run of one page of one row.
    await insertRows(dbs[0]!, 10, created, created + 90 * DAY, contents);
    const [target] = await insertRows(dbs.at(-1)!, 1, created, created + 90 * DAY, contents);
    let runs = 0;
    while ((await countKeys(dbs.at(-1)!, [target!])) > 0 && runs < 10) {
      expect((await runRetention(env, now, { segmentPage: 1, segmentPages: 1 })).errors).toEqual([]);
      runs++;
    }
    expect(await countKeys(dbs.at(-1)!, [target!])).toBe(0);
    expect(runs).toBeLessThanOrEqual(dbs.length);
  });

  it("keeps a row it cannot read, looks at it again in a day, and goes on with the shard's other due rows", async () => {
    const p = await createTestProject("due-damaged");
    const db = shardDbs(env)[0]!;
    const now = Date.now();
    expect((await runRetention(env, now)).errors).toEqual([]);
    const created = now - 100 * DAY;
    const [damaged] = await insertRows(db, 1, created, created + 1, () => "{not json");
    const [fine] = await insertRows(db, 1, created, created + 2, () =>
      JSON.stringify({ [p.id]: { n: 1, ids: [] } }),
    );
    const report = await runRetention(env, now);
    expect(report.errors).toEqual([]);
    expect(await countKeys(db, [fine!])).toBe(0);
    const row = await db
      .prepare("SELECT expires_at FROM segments WHERE key = ?")
      .bind(damaged)
      .first<{ expires_at: number }>();
    expect(row?.expires_at).toBe(now + DAY);
    expect(await env.BLOBS.head(damaged!)).not.toBeNull();
    await db.prepare("DELETE FROM segments WHERE key = ?").bind(damaged).run();
  });

  it("makes an item due in a day when the edge's retention may be stale: none sent, or received before the queue's retention", async () => {
    const p = await createTestProject("due-stale");
    const old = { ...itemOf(p, 90), receivedAt: Date.now() - 5 * DAY };
    const bare = { ...itemOf(p, 90), policy: undefined };
    for (const item of [old, bare]) {
      const { result } = await deliver([batchBody([item])]);
      expect(result.retryMessages).toEqual([]);
    }
    const rows = await rowsOf(p);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.expires_at).toBe(r.created_at + DAY);
    // A fresh item with the edge's policy is due after the retention it names.
    await deliver([batchBody([itemOf(p, 90)])]);
    expect((await rowsOf(p)).map((r) => r.expires_at - r.created_at).sort((a, b) => a - b)).toEqual([
      DAY,
      DAY,
      90 * DAY,
    ]);
  });
});
