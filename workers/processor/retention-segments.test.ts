// Retention's bounded, resumable passes inside workerd against real local D1 and R2: segments of a
// short-retention project are reached however many rows of longer-kept projects sit before them
// (rows are read when due), a failing step never stops the others (ledger, other projects), an R2
// object is never left behind by a run stopped between it and its row, deletes respect R2's 1,000
// keys a call, and the orphan sweep of segments never lists the same keys twice.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { timeHex } from "../../shared/ids";
import { segmentKey } from "../../shared/storage/segments";
import { createTestProject, metaDbOf, setRetention, type TestProject } from "../../test/helpers";
import { sweepSegments } from "./orphan-sweep";
import { LEDGER_DAYS, type RetentionEnv, runRetention } from "./retention";

const DAY = 86_400_000;

const exists = async (key: string) => (await env.BLOBS.head(key)) !== null;
const segmentRow = (db: D1Database, key: string) =>
  db.prepare("SELECT contents FROM segments WHERE key = ?").bind(key).first<{ contents: string }>();

/** A segment object and `db`'s row for it, holding `n` items of each project in `projects`. */
async function putSegment(db: D1Database, key: string, createdAt: number, projects: TestProject[]) {
  await env.BLOBS.put(key, "x");
  const contents = Object.fromEntries(projects.map((p) => [p.id, { n: 1, ids: [] }]));
  await db
    .prepare("INSERT INTO segments (key, created_at, bytes, event_count, contents) VALUES (?, ?, 1, 1, ?)")
    .bind(key, createdAt, JSON.stringify(contents))
    .run();
}

/** `env` with its R2 bucket's `delete` replaced. */
function withDelete(del: (target: R2Bucket, keys: string | string[]) => Promise<void>): RetentionEnv {
  const blobs = new Proxy(env.BLOBS, {
    get(target, key) {
      if (key === "delete") return (keys: string | string[]) => del(target, keys);
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, BLOBS: blobs };
}

// First: later tests' runs move the orphan sweep's cursor up to their `now`.
describe("orphan segment sweep", () => {
  it("walks segment keys once, in order: an hour is swept once it is old enough, and never listed again", async () => {
    const now = Date.now();
    const orphan = segmentKey(now, `orphan-${crypto.randomUUID()}`);
    await env.BLOBS.put(orphan, "x");
    // Within the hour: its batch may still commit.
    expect(await sweepSegments(env, now + 30 * 60_000)).toBe(0);
    expect(await exists(orphan)).toBe(true);
    await sweepSegments(env, now + 3 * 3600_000);
    expect(await exists(orphan)).toBe(false);

    // Keys already swept are not listed again (before, every run listed two whole days).
    const known = segmentKey(now, `known-${crypto.randomUUID()}`);
    await env.BLOBS.put(known, "x");
    let listed = 0;
    const counting = new Proxy(env.BLOBS, {
      get(target, key) {
        if (key === "list")
          return async (options: R2ListOptions) => {
            const page = await target.list(options);
            listed += page.objects.filter((o) => o.key === known).length;
            return page;
          };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await sweepSegments({ DB: env.DB, BLOBS: counting }, now + 4 * 3600_000);
    expect(listed).toBe(0);
  });
});

describe("segment retention", () => {
  it("deletes a short-retention project's segments behind more than a page of longer-kept ones", async () => {
    const [short, long] = await Promise.all([createTestProject("seg-1d"), createTestProject("seg-90d")]);
    await setRetention(short, 1);
    await setRetention(long, 90);
    const db = await metaDbOf(short.id);
    const now = Date.now();
    const tag = crypto.randomUUID();
    // 201 segments of the 90-day project, 3 days old: more than one oldest-first window of 200.
    const kept: string[] = [];
    for (let i = 0; i < 201; i++) kept.push(`segments/test/${tag}/long-${String(i).padStart(4, "0")}`);
    for (const [i, key] of kept.entries()) await putSegment(db, key, now - 3 * DAY + i, [long]);
    const shortKey = `segments/test/${tag}/short`;
    await putSegment(db, shortKey, now - 2 * DAY, [short]);
    // And one both projects have items in: the 1-day project's share goes, the object stays.
    const sharedKey = `segments/test/${tag}/shared`;
    await putSegment(db, sharedKey, now - 2 * DAY + 1, [short, long]);

    const report = await runRetention(env, now);
    expect(report.errors ?? []).toEqual([]);
    expect(await segmentRow(db, shortKey)).toBeNull();
    expect(await exists(shortKey)).toBe(false);
    expect(JSON.parse((await segmentRow(db, sharedKey))!.contents)).toEqual({ [long.id]: { n: 1, ids: [] } });
    expect(await exists(sharedKey)).toBe(true);
    for (const key of [kept[0]!, kept[200]!]) {
      expect(await segmentRow(db, key)).not.toBeNull();
      expect(await exists(key)).toBe(true);
    }

    // A run later the 90-day project's rows are due in months: a new expiring segment is reached
    // without reading them again, even with a budget of a page or two.
    const laterKey = `segments/test/${tag}/later`;
    await putSegment(db, laterKey, now - DAY - 60_000, [short]);
    const small = { segmentPage: 50, segmentPages: 2, segmentMs: 60_000 };
    let runs = 0;
    while ((await segmentRow(db, laterKey)) && runs < 20) {
      const r = await runRetention(env, now, small);
      expect(r.errors ?? []).toEqual([]);
      runs++;
    }
    expect(await segmentRow(db, laterKey)).toBeNull();
    expect(await exists(laterKey)).toBe(false);
  });

  it("a project whose retention drops has its older segments expired, though they were due later", async () => {
    const [p, other] = await Promise.all([createTestProject("seg-drop"), createTestProject("seg-30d")]);
    await setRetention(p, 90);
    await setRetention(other, 30);
    const db = await metaDbOf(p.id);
    const now = Date.now();
    const key = `segments/test/${crypto.randomUUID()}/drop`;
    await putSegment(db, key, now - 40 * DAY, [p]);
    // A run reads the segment while `p` still keeps it, and sets it due in 90 days.
    await runRetention(env, now);
    expect(await segmentRow(db, key)).not.toBeNull();
    await setRetention(p, 30);
    await runRetention(env, now);
    expect(await segmentRow(db, key)).toBeNull();
    expect(await exists(key)).toBe(false);
  });

  it("deletes a segment's R2 object before its row: a failed delete is done again next run", async () => {
    const p = await createTestProject("seg-r2-fails");
    await setRetention(p, 1);
    const db = await metaDbOf(p.id);
    const now = Date.now();
    const key = `segments/test/${crypto.randomUUID()}/flaky`;
    // Just expired.
    await putSegment(db, key, now - DAY - 1000, [p]);
    let failed = false;
    const flaky = withDelete(async (target, keys) => {
      if (!failed && [keys].flat().includes(key)) {
        failed = true;
        throw new Error("R2 unavailable");
      }
      await target.delete(keys);
    });
    // (The run reports the failure; before, it threw.)
    const first = await runRetention(flaky, now).catch((err) => ({ errors: [String(err)] }));
    expect(failed).toBe(true);
    expect(first.errors.length).toBeGreaterThan(0);
    await runRetention(env, now);
    expect(await exists(key)).toBe(false);
    expect(await segmentRow(db, key)).toBeNull();
  });
});

describe("retention steps", () => {
  it("a failing step is reported and the rest still run: ledger, fences and other projects", async () => {
    const [failing, fine] = await Promise.all([
      createTestProject("search-fails"),
      createTestProject("search-ok"),
    ]);
    await setRetention(failing, 1);
    await setRetention(fine, 1);
    const now = Date.now();
    const fineDb = await metaDbOf(fine.id);
    const failingDb = await metaDbOf(failing.id);
    const oldLedger = `${timeHex(now - (LEDGER_DAYS + 1) * DAY)}${crypto.randomUUID()}`;
    await failingDb
      .prepare("INSERT INTO message_ledger (id, batch_id, applied_at) VALUES (?, 'old', ?)")
      .bind(oldLedger, now - (LEDGER_DAYS + 1) * DAY)
      .run();
    const attachment = async (p: TestProject, db: D1Database) => {
      const blobKey = `attachments/${p.id}/${crypto.randomUUID()}/0`;
      await env.BLOBS.put(blobKey, "x");
      await db
        .prepare(
          "INSERT INTO attachments (project_id, event_id, name, blob_key, size, created_at) VALUES (?, ?, 'a', ?, 1, ?)",
        )
        .bind(Number(p.id), crypto.randomUUID(), blobKey, now - 2 * DAY)
        .run();
      return blobKey;
    };
    const failingBlob = await attachment(failing, failingDb);
    const fineBlob = await attachment(fine, fineDb);
    const segKey = `segments/test/${crypto.randomUUID()}/steps`;
    await putSegment(fineDb, segKey, now - 2 * DAY, [fine]);
    // Earlier tests in this file leave segment cursors past this row's time (their rows are written
    // out of time order, which the processor never does): start this shard's walk from the oldest.
    await fineDb.prepare("DELETE FROM sweep_cursors WHERE prefix LIKE 'retention:segments:%'").run();

    // The search backend (D1 FTS here) fails for one project only, wherever it comes in the run.
    const failingPid = String(failing.id);
    // (Retention deletes several projects' documents in one batch: a batch holding one fails.)
    const failingStatements = new WeakSet<object>();
    const down = () => Promise.reject(new Error("search backend down"));
    const db = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare")
          return (sql: string) => {
            const stmt = target.prepare(sql);
            if (!/DELETE FROM search_docs/.test(sql)) return stmt;
            return {
              bind: (...args: unknown[]) => {
                if (String(args[0]) !== failingPid) return stmt.bind(...args);
                const failingStmt = { all: down };
                failingStatements.add(failingStmt);
                return failingStmt;
              },
            };
          };
        if (key === "batch")
          return (stmts: D1PreparedStatement[]) =>
            stmts.some((s) => failingStatements.has(s)) ? down() : target.batch(stmts);
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await runRetention({ ...env, DB: db }, now).catch((err) => ({
      errors: [String(err)],
      ledgerPruned: 0,
    }));
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toContain("search backend down");
    expect(report.ledgerPruned).toBeGreaterThanOrEqual(1);
    expect(
      await failingDb.prepare("SELECT 1 AS x FROM message_ledger WHERE id = ?").bind(oldLedger).first(),
    ).toBeNull();
    for (const k of [failingBlob, fineBlob]) expect(await exists(k), k).toBe(false);
    expect(await segmentRow(fineDb, segKey)).toBeNull();
  });

  it("deletes more than 1,000 expired attachments, at most 1,000 R2 keys a call", async () => {
    const p = await createTestProject("many-attachments");
    await setRetention(p, 1);
    const db = await metaDbOf(p.id);
    const now = Date.now();
    const keys = Array.from({ length: 1203 }, (_, i) => `attachments/${p.id}/${crypto.randomUUID()}/${i}`);
    for (let i = 0; i < keys.length; i += 100)
      await Promise.all(keys.slice(i, i + 100).map((k) => env.BLOBS.put(k, "x")));
    const rows = keys.map((k, i) => [Number(p.id), `e${i}`, k, now - 2 * DAY]);
    for (let i = 0; i < rows.length; i += 500)
      await db
        .prepare(
          `INSERT INTO attachments (project_id, event_id, name, blob_key, size, created_at)
           SELECT value->>0, value->>1, 'a', value->>2, 1, value->>3 FROM json_each(?)`,
        )
        .bind(JSON.stringify(rows.slice(i, i + 500)))
        .run();
    // R2 refuses a delete of more than 1,000 keys; the local bucket does not, so this one does.
    const strict = withDelete(async (target, k) => {
      if (Array.isArray(k) && k.length > 1000) throw new Error(`R2 delete of ${k.length} keys`);
      await target.delete(k);
    });
    const report = await runRetention(strict, now).catch((err) => ({ errors: [String(err)] }));
    expect(report.errors ?? []).toEqual([]);
    const left = await db
      .prepare("SELECT count(*) AS n FROM attachments WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
    const listed = await env.BLOBS.list({ prefix: `attachments/${p.id}/` });
    expect(listed.objects).toHaveLength(0);
  });
});
