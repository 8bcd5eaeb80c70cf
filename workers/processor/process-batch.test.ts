// The processor against real local D1, R2 and Queues inside workerd: no D1 row per error event
// (the event index is the search backend, fed through the real index queue), exactly-once
// aggregates through the per-message ledger, packed segments read back byte-exact with one range
// GET, injected R2/D1 failures ending in retries (and after max retries in the dead-letter queue,
// replayable) with nothing lost, and retention (aggregates, event index, ledger).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { foldGroupDeltas } from "../../shared/db/group-fold";
import { projectShards, shardDbs } from "../../shared/db/shards";
import type { IngestBatch, IngestItem } from "../../shared/queue-message";
import { decodeRecord, readDirectory, readRecord } from "../../shared/storage/segments";
import { api, createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";
import processor from "./index";
import { ledgerHolds, sliceOf } from "./ledger-sql";
import { processBatch } from "./process-batch";
import { LEDGER_DAYS, runRetention } from "./retention";
import { shareKey } from "./shard-split";
import { raygunItem } from "./test-helpers";

let _project: TestProject;
beforeAll(async () => {
  _project = await createTestProject("processor");
});

/** A message id as the edge makes them: send time in 12 hex digits, then a unique part. */
const messageId = (at = Date.now()) => `${at.toString(16).padStart(12, "0")}${crypto.randomUUID()}`;

const body = (items: IngestItem[], id = messageId()): string =>
  JSON.stringify({ v: 1, id, items } satisfies IngestBatch);

async function deliver(bodies: string[], attempts = 1, environment: unknown = env) {
  const batch = createMessageBatch(
    "sluice-errors-0",
    bodies.map((b, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: b })),
  );
  const ctx = createExecutionContext();
  await processor.queue(batch, environment as ProcessorEnv);
  return getQueueResult(batch, ctx);
}

async function groupCounts(p: TestProject) {
  const r = await api<{ groups: { id: string; count: number }[] }>(`/api/v1/projects/${p.id}/groups`);
  return r.body.groups;
}

interface IndexedRow {
  event_id: string;
  segment_key: string;
  segment_offset: number;
  segment_length: number;
}

/** The project's entries in the event index (the FTS backend here) right now. */
async function indexedNow(p: TestProject) {
  return (
    await env.DB.prepare(
      "SELECT event_id, segment_key, segment_offset, segment_length FROM search_docs WHERE project_id = ?",
    )
      .bind(p.id)
      .all<IndexedRow>()
  ).results;
}

/** Waits until the indexer (real index queue) has indexed `n` of the project's events. */
async function eventRows(p: TestProject, n: number) {
  await waitFor(async () => (await indexedNow(p)).length >= n);
  return indexedNow(p);
}

/** D1 rows per event (the `events` pointer table): none for errors. */
async function perEventRows(p: TestProject) {
  const r = await (await metaDbOf(p.id))
    .prepare("SELECT count(*) AS n FROM events WHERE project_id = ?")
    .bind(Number(p.id))
    .first<{ n: number }>();
  return r?.n ?? 0;
}

async function groupHours(p: TestProject) {
  const r = await (await metaDbOf(p.id))
    .prepare("SELECT sum(count) AS n, count(*) AS rows FROM group_hours WHERE project_id = ?")
    .bind(Number(p.id))
    .first<{ n: number | null; rows: number }>();
  return { occurrences: r?.n ?? 0, rows: r?.rows ?? 0 };
}

describe("idempotency", () => {
  it("a message delivered twice yields one occurrence and count 1", async () => {
    const p = await createTestProject("twice");
    const b = body([raygunItem(p)]);
    expect((await deliver([b])).explicitAcks).toHaveLength(1);
    expect((await deliver([b], 2)).explicitAcks).toHaveLength(1);
    expect(await eventRows(p, 1)).toHaveLength(1);
    expect((await groupCounts(p)).map((g) => g.count)).toEqual([1]);
    expect((await groupHours(p)).occurrences).toBe(1);
    expect(await perEventRows(p)).toBe(0);
  });

  it("a message delivered twice in ONE batch is applied once and both copies are acked", async () => {
    const p = await createTestProject("same-batch");
    const b = body([raygunItem(p), raygunItem(p)]);
    expect((await deliver([b, b])).explicitAcks).toHaveLength(2);
    expect((await groupCounts(p)).map((g) => g.count)).toEqual([2]);
    expect((await groupHours(p)).occurrences).toBe(2);
  });

  it("a batch redelivered three times (in different compositions) leaves one occurrence per event and correct counts", async () => {
    const p = await createTestProject("thrice");
    const items = Array.from({ length: 30 }, (_, i) => raygunItem(p, {}, i % 3 === 0 ? "alpha" : "beta"));
    const bodies = [body(items.slice(0, 10)), body(items.slice(10, 20)), body(items.slice(20))];
    await deliver(bodies);
    await deliver([bodies[1]!, bodies[0]!], 2);
    await deliver([bodies[2]!, bodies[1]!, bodies[0]!], 3);
    expect(await eventRows(p, 30)).toHaveLength(30);
    expect((await groupHours(p)).occurrences).toBe(30);
    const counts = (await groupCounts(p)).map((g) => g.count).sort((a, b) => a - b);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
      `/api/v1/projects/${p.id}/stats`,
    );
    expect(stats.body.totals.find((t) => t.outcome === "accepted")?.quantity).toBe(30);
  });
});

describe("D1 rows per event (Elasticsearch budget: ≤ 0.3)", () => {
  it("writes no row per error event: one ledger row per send-time slice, aggregates once per key, counted by D1", async () => {
    const p = await createTestProject("budget");
    // 100 messages of 4 reports in 5 groups, all in one hour and one minute (realistic reuse).
    const hour = Math.floor(Date.now() / 3600_000) * 3600_000 - 3600_000;
    const items = Array.from({ length: 400 }, (_, i) => {
      const it = raygunItem(p, { receivedAt: hour + 60_000 }, `budget group ${i % 5}`);
      const report = JSON.parse(it.payload!);
      report.occurredOn = new Date(hour + 60_000 + i).toISOString();
      report.details.error.className = `BudgetError${i % 5}`;
      it.payload = JSON.stringify(report);
      it.size = it.payload.length;
      return it;
    });
    const bodies = Array.from({ length: 100 }, (_, m) => body(items.slice(m * 4, m * 4 + 4)));
    // Folding deferred, as deployed (GROUP_FOLD_MS; the tests' default folds after every batch).
    const deferred = { ...env, GROUP_FOLD_MS: "600000" };
    const run = async (attempts: number, list = bodies, tag = "b") => {
      const batch = createMessageBatch(
        "sluice-errors-0",
        list.map((b, i) => ({ id: `${tag}${i}-${attempts}`, timestamp: new Date(), attempts, body: b })),
      );
      return processBatch(batch, deferred);
    };
    const first = await run(1);
    expect(first.stored).toBe(400);
    // One ledger row per send-time slice of the 100 messages (not one per message) + the segment
    // row (4 b-tree entries: rowid, key, time, expiry) + 5 new groups (count 0 until the fold) + the
    // batch's group delta (2: its row and the AUTOINCREMENT sequence) + 1 outcome row + 5 release
    // facets (new groups only: group-workflow.ts).
    const ids = bodies.map((b) => (JSON.parse(b) as IngestBatch).id);
    const slices = new Set(ids.map(sliceOf)).size;
    expect(slices).toBeLessThanOrEqual(2);
    expect(first.d1RowsWritten).toBe(slices + 4 + 5 + 2 + 1 + 5);
    const stored = async () =>
      (
        await (
          await metaDbOf(p.id)
        )
          .prepare("SELECT count FROM error_groups WHERE project_id = ? ORDER BY id")
          .bind(Number(p.id))
          .all<{ count: number }>()
      ).results.map((r) => r.count);
    expect(await stored()).toEqual([0, 0, 0, 0, 0]);
    // The fold: its claim, 5 groups, 5 group hours, the delta deleted.
    const fold = await foldGroupDeltas(await metaDbOf(p.id));
    expect(fold).toEqual({ deltas: 1, rowsWritten: 1 + 5 + 5 + 1 });
    expect((first.d1RowsWritten + fold.rowsWritten) / first.stored).toBeLessThanOrEqual(0.3);
    expect(await stored()).toEqual([80, 80, 80, 80, 80]);
    expect(await perEventRows(p)).toBe(0);
    const ledger = await (await metaDbOf(p.id))
      .prepare(
        "SELECT count(*) AS rows, sum(json_array_length(ids)) AS n FROM message_ledger WHERE batch_id = ?",
      )
      .bind(first.batchId)
      .first<{ rows: number; n: number }>();
    expect(ledger).toEqual({ rows: slices, n: 100 });
    // The ledger keeps each project's share of a message.
    const shares = ids.map((id) => shareKey(id, p.id));
    expect([...(await ledgerHolds(await metaDbOf(p.id), [...shares, "not-applied"]))].sort()).toEqual(
      [...shares].sort(),
    );

    // Redelivery of the whole batch: only the new segment's row (4 b-tree entries); every counter stays exact.
    const again = await run(2);
    expect(again.d1RowsWritten).toBe(4);
    expect((await groupCounts(p)).map((g) => g.count)).toEqual([80, 80, 80, 80, 80]);
    expect(await groupHours(p)).toEqual({ occurrences: 400, rows: 5 });
    const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
      `/api/v1/projects/${p.id}/stats?from=${hour - 3600_000}`,
    );
    expect(stats.body.totals.find((t) => t.outcome === "accepted")?.quantity).toBe(400);
    // The event index still gets every event once, with its segment pointer.
    expect(await eventRows(p, 400)).toHaveLength(400);
    // Steady state: 400 more events of the same groups write nothing per group or per event until
    // the fold: ledger, segment (4 b-tree entries), delta, the outcome minute.
    const more = bodies.map((b) => {
      const m = JSON.parse(b) as IngestBatch;
      return JSON.stringify({ ...m, id: `${m.id.slice(0, 12)}${crypto.randomUUID()}` });
    });
    const second = await run(1, more, "c");
    const moreSlices = new Set(more.map((b) => sliceOf((JSON.parse(b) as IngestBatch).id))).size;
    expect(second.d1RowsWritten).toBe(moreSlices + 4 + 2 + 1);
    const refold = await foldGroupDeltas(await metaDbOf(p.id));
    expect(refold).toEqual({ deltas: 1, rowsWritten: 1 + 5 + 5 + 1 });
    expect((second.d1RowsWritten + refold.rowsWritten) / 400).toBeLessThan(0.06);
    expect(await stored()).toEqual([160, 160, 160, 160, 160]);
  });
});

describe("message ledger", () => {
  it("is pruned by retention once the queue can no longer redeliver, and not before", async () => {
    const now = Date.now();
    const old = messageId(now - (LEDGER_DAYS + 1) * 86_400_000);
    const recent = messageId(now - (LEDGER_DAYS - 1) * 86_400_000);
    // The ledger lives on each metadata shard; retention prunes every one of them.
    const shard = shardDbs(env).at(-1)!;
    await shard.batch(
      [old, recent].map((id) =>
        shard
          .prepare("INSERT INTO message_ledger (id, batch_id, applied_at) VALUES (?, 'b', ?)")
          .bind(id, now),
      ),
    );
    const report = await runRetention(env, now);
    expect(report.ledgerPruned).toBeGreaterThanOrEqual(1);
    const left = await shard
      .prepare("SELECT id FROM message_ledger WHERE id IN (?, ?)")
      .bind(old, recent)
      .all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual([recent]);
  });

  it("keeps the chunk guards of a shard move that stopped, however old, while its outbox holds a chunk: a rerun needs them not to count twice", async () => {
    const now = Date.now();
    const shard = shardDbs(env).at(-1)!;
    const source = shardDbs(env)[0]!;
    const guard = "move:424242:0123456789abcdef01234567";
    await shard
      .prepare("INSERT INTO message_ledger (id, batch_id, applied_at, ids) VALUES (?, 'run', ?, '[]')")
      .bind(guard, now - (LEDGER_DAYS + 30) * 86_400_000)
      .run();
    // The stopped move's chunk, still in the outbox of the shard it left.
    await source
      .prepare(
        "INSERT INTO move_outbox (id, project_id, to_shard, table_name, rows, created_at) VALUES ('0123456789abcdef01234567', 424242, ?, 'outcomes', '[]', ?)",
      )
      .bind(shardDbs(env).length - 1, now - (LEDGER_DAYS + 30) * 86_400_000)
      .run();
    const guards = async () =>
      (
        await shard.prepare("SELECT id FROM message_ledger WHERE id = ?").bind(guard).all<{ id: string }>()
      ).results.map((r) => r.id);
    await runRetention(env, now);
    expect(await guards()).toEqual([guard]);
    // Once a rerun has emptied the outbox, retention lets the guard go.
    await source.prepare("DELETE FROM move_outbox WHERE project_id = 424242").run();
    await runRetention(env, now);
    expect(await guards()).toEqual([]);
  });
});

describe("packed segments", () => {
  it("writes one R2 object per batch and every record range-reads back to its exact bytes", async () => {
    const p = await createTestProject("segments");
    const items = Array.from({ length: 40 }, (_, i) => {
      const it = raygunItem(p, {}, `record ${i} ${"é€😀".repeat(i)}`);
      return it;
    });
    await deliver([body(items.slice(0, 25)), body(items.slice(25))]);
    const rows = await eventRows(p, 40);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.segment_key)).size).toBe(1);
    const byId = new Map(items.map((i) => [i.eventId, i.payload!]));
    for (const row of rows) {
      const rec = await readRecord(
        env.BLOBS,
        row.segment_key,
        { offset: row.segment_offset, length: row.segment_length },
        { eventId: row.event_id, projectId: String(p.id) },
      );
      expect(new TextDecoder().decode(rec!.payload)).toBe(byId.get(row.event_id));
      expect(rec!.header.eventId).toBe(row.event_id);
    }
    // The whole object is the compressed blocks back to back (several records each: 40 small
    // reports of one project fill far less than a block), then its directory, which lists each
    // record exactly where the event index points.
    const whole = new Uint8Array(await (await env.BLOBS.get(rows[0]!.segment_key))!.arrayBuffer());
    const blocks = [...new Map(rows.map((r) => [r.segment_offset, r.segment_length])).entries()].sort(
      (a, b) => a[0] - b[0],
    );
    expect(blocks.length).toBeLessThan(rows.length);
    let end = 0;
    for (const [offset, length] of blocks) {
      expect(offset).toBe(end);
      end += length;
    }
    const total = end;
    const first = rows.sort((a, b) => a.segment_offset - b.segment_offset)[0]!;
    const block = whole.subarray(0, first.segment_length);
    expect(decodeRecord(block, { eventId: first.event_id, projectId: String(p.id) })?.header.eventId).toBe(
      first.event_id,
    );
    // A block answers only for its own records.
    expect(decodeRecord(block, { eventId: first.event_id, projectId: "0" })).toBeNull();
    const directory = await readDirectory(env.BLOBS, rows[0]!.segment_key);
    const byEvent = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(
      directory!.map((e) => [e.eventId, e.projectId, e.category, e.offset, e.length]).sort(byEvent),
    ).toEqual(rows.map((r) => [r.event_id, p.id, "error", r.segment_offset, r.segment_length]).sort(byEvent));
    const head = await env.BLOBS.head(rows[0]!.segment_key);
    const [dirOffset, dirLength] = head!.customMetadata!.directory!.split("+").map(Number);
    expect(dirOffset).toBe(total);
    expect(whole.byteLength).toBe(total + dirLength!);
  });
});

describe("failures", () => {
  function failingEnv(what: "r2" | "d1" | "d1-after-r2") {
    let r2Puts = 0;
    const blobs = new Proxy(env.BLOBS, {
      get(target, prop) {
        if (prop === "put") {
          return async (...args: Parameters<R2Bucket["put"]>) => {
            r2Puts++;
            if (what === "r2") throw new Error("injected R2 failure");
            return target.put(...args);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    // Every D1 database fails its writes: the control database's segment row and each shard's batch.
    const failing = (db: D1Database) =>
      new Proxy(db, {
        get(target, prop) {
          if (prop === "batch" && what !== "r2")
            return async () => {
              throw new Error("injected D1 failure");
            };
          if (prop === "prepare" && what !== "r2")
            return (q: string) => {
              if (q.startsWith("INSERT")) throw new Error("injected D1 failure");
              return target.prepare(q);
            };
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const shards = Object.fromEntries(shardDbs(env).map((db, i) => [`DB_SHARD_${i}`, failing(db)]));
    return { env: { ...env, ...shards, BLOBS: blobs, DB: failing(env.DB) }, r2Puts: () => r2Puts };
  }

  it.each(["r2", "d1"] as const)(
    "an injected %s failure retries every message with backoff and acks none",
    async (what) => {
      const p = await createTestProject(`fail-${what}`);
      const b = body([raygunItem(p), raygunItem(p)]);
      const result = await deliver([b], 3, failingEnv(what).env);
      expect(result.explicitAcks).toHaveLength(0);
      expect(result.retryMessages).toHaveLength(1);
      expect(await indexedNow(p)).toHaveLength(0);
      expect(await groupCounts(p)).toHaveLength(0);
      // The retry (R2 and D1 healthy again) stores everything exactly once.
      expect((await deliver([b], 4)).explicitAcks).toHaveLength(1);
      expect(await eventRows(p, 2)).toHaveLength(2);
      expect((await groupCounts(p)).map((g) => g.count)).toEqual([2]);
    },
  );

  it("a crash after the R2 write and before D1 leaves an orphan segment that retention collects; the retry stores once", async () => {
    const p = await createTestProject("crash");
    const b = body([raygunItem(p)]);
    const failing = failingEnv("d1-after-r2");
    await deliver([b], 1, failing.env);
    expect(failing.r2Puts()).toBe(1);
    await deliver([b], 2);
    expect(await eventRows(p, 1)).toHaveLength(1);
    const listed = await env.BLOBS.list({ prefix: "segments/" });
    const known = (
      await Promise.all(
        shardDbs(env).map((db) => db.prepare("SELECT key FROM segments").all<{ key: string }>()),
      )
    ).flatMap((r) => r.results.map((x) => x.key));
    const orphans = listed.objects.filter((o) => !known.includes(o.key));
    expect(orphans.length).toBeGreaterThanOrEqual(1);
    const report = await runRetention(env, Date.now() + 2 * 3600_000);
    expect(report.orphansDeleted).toBe(orphans.length);
    const after = await env.BLOBS.list({ prefix: "segments/" });
    expect(after.objects.every((o) => known.includes(o.key))).toBe(true);
    expect(await indexedNow(p)).toHaveLength(1);
  });

  it("a poison message goes to the dead-letter queue with its reason, is recorded, and replays", async () => {
    const p = await createTestProject("poison");
    const good = raygunItem(p);
    const badItem = raygunItem(p, { payload: "{not json" });
    const result = await deliver(["this is not a batch", body([good, badItem])]);
    expect(result.explicitAcks).toHaveLength(2);
    const recorded = await waitFor(async () => {
      const r = await api<{ deadLetters: { id: string; reason: string; queue: string }[] }>(
        "/api/v1/dead-letters?pending=true",
      );
      return r.body.deadLetters.length >= 2 ? r.body.deadLetters : null;
    });
    expect(recorded.map((d) => d.reason).join("\n")).toMatch(/undecodable message/);
    expect(recorded.map((d) => d.reason).join("\n")).toMatch(/not JSON/);
    expect(await eventRows(p, 1)).toHaveLength(1);
    const replay = await api<{ replayed: number; skipped: { reason: string }[] }>(
      "/api/v1/dead-letters/replay",
      { method: "POST", body: "{}" },
    );
    expect(replay.body.replayed).toBeGreaterThanOrEqual(1); // the poison item is re-sent (and fails again: still not JSON)
    expect(replay.body.skipped.some((s) => /not a Sluice queue message/.test(s.reason))).toBe(true);
  });
});

describe("retention", () => {
  it("deletes exactly what is expired: events, segments, aggregates and search docs of the short-retention project only", async () => {
    const shortP = await createTestProject("short");
    const longP = await createTestProject("long");
    await api(`/api/v1/projects/${longP.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ retentionDays: 365 }),
    });
    // Two shards (placed least-loaded), so the batch's segment has a row on each.
    const shards = await projectShards(env, [shortP.id, longP.id]);
    expect(shards.get(shortP.id)).not.toBe(shards.get(longP.id));
    await deliver([body([raygunItem(shortP), raygunItem(shortP), raygunItem(longP)])]);
    expect(await eventRows(shortP, 2)).toHaveLength(2);
    const segKey = (await eventRows(longP, 1))[0]!.segment_key;
    expect((await groupHours(shortP)).rows).toBe(1);
    // 100 days later: the 90-day project's data is gone, the 365-day project's stays (and so does the shared segment).
    const report = await runRetention(env, Date.now() + 100 * 86_400_000);
    expect(report.eventsDeleted).toBeGreaterThanOrEqual(2);
    expect(report.searchDocsDeleted).toBeGreaterThanOrEqual(2);
    expect(await indexedNow(shortP)).toHaveLength(0);
    expect(await indexedNow(longP)).toHaveLength(1);
    expect(await groupHours(shortP)).toEqual({ occurrences: 0, rows: 0 });
    expect((await groupHours(longP)).occurrences).toBe(1);
    expect(await env.BLOBS.head(segKey)).not.toBeNull();
    expect(await groupCounts(shortP)).toHaveLength(0);
    expect(await groupCounts(longP)).toHaveLength(1);
    // 400 days later the other project's data and the segment object go too.
    const later = await runRetention(env, Date.now() + 400 * 86_400_000);
    expect(later.segmentsDeleted).toBeGreaterThanOrEqual(1);
    expect(await env.BLOBS.head(segKey)).toBeNull();
  });
});

describe("dead-letter queue consumer", () => {
  it("records dead letters in D1, and in R2 when D1 is failing, so none is ever silently dropped", async () => {
    const body = JSON.stringify({
      v: 1,
      deadLetter: { queue: "sluice-errors-0", reason: "test reason" },
      body: "x",
    });
    const deliverDlq = async (environment: unknown) => {
      const batch = createMessageBatch("sluice-dlq", [
        { id: `dl-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
      ]);
      await processor.queue(batch, environment as ProcessorEnv);
      return { batch, result: await getQueueResult(batch, createExecutionContext()) };
    };
    const ok = await deliverDlq(env);
    expect(ok.result.ackAll).toBe(true);
    const row = await env.DB.prepare("SELECT reason FROM dead_letters WHERE id = ?")
      .bind(ok.batch.messages[0]!.id)
      .first<{ reason: string }>();
    expect(row?.reason).toBe("test reason");
    const failingDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return () => {
            throw new Error("injected D1 failure");
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const fallback = await deliverDlq({ ...env, DB: failingDb });
    expect(fallback.result.ackAll).toBe(true);
    const listed = await env.BLOBS.list({ prefix: "dead-letters/" });
    const key = listed.objects.find((o) => o.key.endsWith(`${fallback.batch.messages[0]!.id}.json`))?.key;
    expect(key).toBeDefined();
    expect(JSON.parse(await (await env.BLOBS.get(key!))!.text())).toMatchObject({
      reason: "test reason",
      body,
    });
  });
});
