// Retention of dead letters and the orphan sweep, inside workerd against real local D1, R2 and
// Queues: dead letters (D1 rows and the R2 fallback) follow their project's retention, and every
// R2 prefix Sluice writes is swept: unreferenced claim checks and attachments go once no queue can
// still hold their item, while what a dead letter or an attachments row refers to stays.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import { newEventId } from "../../shared/ids";
import type { IngestItem } from "../../shared/queue-message";
import { createTestProject, metaDbOf, setRetention, type TestProject } from "../../test/helpers";
import { deadLetterKey } from "./dead-letters";
import { runRetention } from "./retention";
import { batchBody, deadLetterRows, deliver, raygunItem, recordOne } from "./test-helpers";

const DAY = 86_400_000;

const exists = async (key: string) => (await env.BLOBS.head(key)) !== null;

/** A dead letter holding one item of `p`, recorded in D1, or in R2 when `inR2`. */
const deadLetterOf = (p: TestProject, inR2 = false, over: Partial<IngestItem> = {}) =>
  recordOne(batchBody([raygunItem(p, over)]), inR2);

/** A Sentry attachment item of `p` whose file (already in R2 under `blobKey`) belongs to `eventId`. */
const attachmentItem = (p: TestProject, blobKey: string, eventId: string): IngestItem => ({
  protocol: "sentry",
  category: "attachment",
  itemType: "attachment",
  projectId: p.id,
  eventId: newEventId(),
  receivedAt: Date.now(),
  client: { ip: null, userAgent: null, country: null, colo: null },
  blobKey,
  binary: true,
  size: 3,
  meta: { eventId, item: { filename: "dump.bin" } },
});

describe("dead-letter retention", () => {
  it("deletes dead letters older than their project's retention, in D1 and in the R2 fallback", async () => {
    const [short, long] = await Promise.all([createTestProject("dl-short"), createTestProject("dl-long")]);
    await setRetention(short, 2);
    await setRetention(long, 365);
    await deadLetterOf(short);
    const shortR2 = await deadLetterOf(short, true);
    const longD1 = await deadLetterOf(long);
    const longR2 = await deadLetterOf(long, true);
    const unowned = await recordOne("not a Sluice message");
    const unownedRow = () => env.DB.prepare("SELECT id FROM dead_letters WHERE id = ?").bind(unowned).first();

    const early = await runRetention(env, Date.now() + 1 * DAY);
    expect(early.deadLettersDeleted).toBe(0);

    const report = await runRetention(env, Date.now() + 3 * DAY);
    expect(report.deadLettersDeleted).toBe(2);
    expect(await deadLetterRows(short.id)).toHaveLength(0);
    expect(await exists(deadLetterKey(shortR2))).toBe(false);
    expect((await deadLetterRows(long.id)).map((r) => r.id)).toEqual([longD1]);
    expect(await exists(deadLetterKey(longR2))).toBe(true);
    expect(await unownedRow()).not.toBeNull();

    // Without a project, the default 30 days apply.
    await runRetention(env, Date.now() + 31 * DAY);
    expect(await unownedRow()).toBeNull();
    expect(await deadLetterRows(long.id)).toHaveLength(1);
    expect(await exists(deadLetterKey(longR2))).toBe(true);
  });
});

describe("dead-letter retention in bounded chunks", () => {
  it("deletes 25,000 expired dead letters over two runs, at most 20,000 a run, with their blob references", async () => {
    const p = await createTestProject("dl-many");
    await setRetention(p, 2);
    const now = Date.now();
    const ids = Array.from({ length: 25_000 }, (_, i) => `dl-many-${i}`);
    for (let i = 0; i < ids.length; i += 5_000)
      await env.DB.prepare(
        `INSERT INTO dead_letters (id, queue, reason, body, attempts, created_at, project_id)
         SELECT value, 'sluice-errors-0', 'test', '{}', 1, ?, ? FROM json_each(?)`,
      )
        .bind(now - 3 * DAY, Number(p.id), JSON.stringify(ids.slice(i, i + 5_000)))
        .run();
    await env.DB.prepare("INSERT INTO dead_letter_blobs (blob_key, dead_letter_id) VALUES ('claims/x', ?)")
      .bind(ids[0])
      .run();
    const rows = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM dead_letters WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ n: number }>())!.n;
    const first = await runRetention(env, now);
    expect(first.errors).toEqual([]);
    expect(first.deadLettersDeleted).toBe(20_000);
    expect(await rows()).toBe(5_000);
    const second = await runRetention(env, now);
    expect(second.deadLettersDeleted).toBe(5_000);
    expect(await rows()).toBe(0);
    const refs = await env.DB.prepare("SELECT count(*) AS n FROM dead_letter_blobs WHERE dead_letter_id = ?")
      .bind(ids[0])
      .first<{ n: number }>();
    expect(refs!.n).toBe(0);
  });
});

describe("orphan sweep", () => {
  it("collects unreferenced claim checks and attachments once out of flight, and keeps referenced ones", async () => {
    const p = await createTestProject("sweep");
    const key = (what: string) => `claims/${p.id}/${what}-${crypto.randomUUID()}`;
    const orphanClaim = key("orphan");
    const dlClaim = key("dead-lettered");
    const fallbackClaim = key("fallback");
    for (const k of [orphanClaim, dlClaim, fallbackClaim]) await env.BLOBS.put(k, '{"m":"x"}');
    await deadLetterOf(p, false, { payload: undefined, blobKey: dlClaim });
    await deadLetterOf(p, true, { payload: undefined, blobKey: fallbackClaim });

    // An attachment the processor linked to its event, and one whose item never arrived.
    const eventId = newEventId();
    const linked = `attachments/${p.id}/${eventId}/0-${crypto.randomUUID()}`;
    const orphanAttachment = `attachments/${p.id}/${newEventId()}/0-${crypto.randomUUID()}`;
    for (const k of [linked, orphanAttachment]) await env.BLOBS.put(k, new Uint8Array([1, 2, 3]));
    const { result } = await deliver([batchBody([attachmentItem(p, linked, eventId)])], {
      queue: "sluice-telemetry-0",
    });
    expect(result.explicitAcks).toHaveLength(1);
    const row = await (await metaDbOf(p.id))
      .prepare("SELECT blob_key FROM attachments WHERE project_id = ? AND event_id = ?")
      .bind(Number(p.id), eventId)
      .first<{ blob_key: string }>();
    expect(row?.blob_key).toBe(linked);

    // An hour on, every item may still be queued: nothing goes.
    await runRetention(env, Date.now() + 3600_000);
    for (const k of [orphanClaim, dlClaim, fallbackClaim, linked, orphanAttachment])
      expect(await exists(k), k).toBe(true);

    // Past the in-flight window: only the unreferenced ones go.
    const report = await runRetention(env, Date.now() + 5 * DAY);
    expect(report.orphansDeleted).toBeGreaterThanOrEqual(2);
    expect(await exists(orphanClaim)).toBe(false);
    expect(await exists(orphanAttachment)).toBe(false);
    for (const k of [dlClaim, fallbackClaim, linked]) expect(await exists(k), k).toBe(true);

    // Once the dead letters and the attachment expire with the project's 90 days, their blobs go too.
    await runRetention(env, Date.now() + 91 * DAY);
    for (const k of [dlClaim, fallbackClaim, linked]) expect(await exists(k), k).toBe(false);
  });
});

describe("orphan sweep during a project move", () => {
  it("keeps attachment files whose rows are still on the shard a stopped move left, or in its outbox", async () => {
    const p = await createTestProject("sweep-moving");
    const db = await metaDbOf(p.id);
    const shards = shardDbs(env);
    const from = shards.indexOf(db);
    const put = async () => {
      const eventId = newEventId();
      const key = `attachments/${p.id}/${eventId}/0-${crypto.randomUUID()}`;
      await env.BLOBS.put(key, new Uint8Array([1, 2, 3]));
      const { result } = await deliver([batchBody([attachmentItem(p, key, eventId)])], {
        queue: "sluice-telemetry-0",
      });
      expect(result.explicitAcks).toHaveLength(1);
      return key;
    };
    const onOldShard = await put();
    const inOutbox = await put();
    // A move flipped the pointer, staged the second row in the old shard's outbox, and stopped.
    await db.batch([
      db
        .prepare(
          `INSERT INTO move_outbox (id, project_id, to_shard, table_name, rows, created_at)
           SELECT ?, project_id, ?, 'attachments', json_group_array(json_object('project_id', project_id,
             'event_id', event_id, 'blob_key', blob_key)), ? FROM attachments WHERE blob_key = ?`,
        )
        .bind(crypto.randomUUID(), (from + 1) % shards.length, Date.now(), inOutbox),
      db.prepare("DELETE FROM attachments WHERE blob_key = ?").bind(inOutbox),
    ]);
    await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?")
      .bind((from + 1) % shards.length, Number(p.id))
      .run();
    try {
      await runRetention(env, Date.now() + 5 * DAY);
      for (const k of [onOldShard, inOutbox]) expect(await exists(k), k).toBe(true);
    } finally {
      await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?").bind(from, Number(p.id)).run();
    }
  });
});

describe("orphan sweep and short retention", () => {
  it("keeps a 1-day project's claim check while the queue can still deliver its item", async () => {
    const p = await createTestProject("sweep-short");
    await setRetention(p, 1);
    const claim = `claims/${p.id}/backlog-${crypto.randomUUID()}`;
    await env.BLOBS.put(claim, '{"m":"x"}');

    // Two days on, a backlog may still hold the item: its payload must still be there.
    await runRetention(env, Date.now() + 2 * DAY);
    expect(await exists(claim)).toBe(true);

    // Past the queue's retention nothing can deliver it any more.
    await runRetention(env, Date.now() + 5 * DAY);
    expect(await exists(claim)).toBe(false);
  });
});

describe("dead-letter blob references", () => {
  it("two dead letters of one claim-checked item each keep its blob: deleting the newer leaves the older's", async () => {
    const p = await createTestProject("dl-dup");
    const claim = `claims/${p.id}/dup-${crypto.randomUUID()}`;
    await env.BLOBS.put(claim, '{"m":"x"}');
    const item = raygunItem(p, { payload: undefined, blobKey: claim });
    const older = await recordOne(batchBody([item]));
    const newer = await recordOne(batchBody([item]));
    await env.DB.prepare("DELETE FROM dead_letters WHERE id = ?").bind(newer).run();

    // Past the in-flight window: the older dead letter still refers to the blob.
    await runRetention(env, Date.now() + 5 * DAY);
    expect(
      await env.DB.prepare("SELECT id FROM dead_letters WHERE id = ?").bind(older).first(),
    ).not.toBeNull();
    expect(await exists(claim)).toBe(true);
  });
});

describe("unfinished source-map bundles", () => {
  it("deletes the maps and file rows of a bundle save that never wrote its bundle row, a day on", async () => {
    const p = await createTestProject("unfinished-bundle");
    const pid = Number(p.id);
    const fileRow = (bundle: string) =>
      env.DB.prepare(
        `INSERT INTO artifact_files (project_id, bundle_id, url, kind, debug_id, release, dist, map_url, blob_key, size, created_at)
         VALUES (?, ?, '~/app.js.map', 'source_map', NULL, 'r1', '', NULL, ?, 3, ?)`,
      ).bind(pid, bundle, `artifacts/${pid}/${bundle}/0`, Date.now());
    // A finished bundle (its row written last) and one whose save stopped after its first batch.
    await env.BLOBS.put(`artifacts/${pid}/finished/0`, "map");
    await env.DB.batch([
      fileRow("finished"),
      env.DB.prepare(
        `INSERT INTO artifact_bundles (project_id, id, source, release, dist, files, bytes, created_at)
         VALUES (?, 'finished', 'sentry-cli', 'r1', '', 1, 3, ?)`,
      ).bind(pid, Date.now()),
    ]);
    await env.BLOBS.put(`artifacts/${pid}/unfinished/0`, "map");
    await env.BLOBS.put(`artifacts/${pid}/unfinished/1`, "map");
    await fileRow("unfinished").run();
    const files = async (bundle: string) =>
      (
        await env.DB.prepare(
          "SELECT count(*) AS n FROM artifact_files WHERE project_id = ? AND bundle_id = ?",
        )
          .bind(pid, bundle)
          .first<{ n: number }>()
      )?.n;

    // Within the day a save may still be under way: nothing goes.
    await runRetention(env, Date.now() + 3600_000);
    expect(await exists(`artifacts/${pid}/unfinished/0`)).toBe(true);
    expect(await files("unfinished")).toBe(1);

    const report = await runRetention(env, Date.now() + 2 * DAY);
    expect(report.errors).toEqual([]);
    expect(await exists(`artifacts/${pid}/unfinished/0`)).toBe(false);
    expect(await exists(`artifacts/${pid}/unfinished/1`)).toBe(false);
    expect(await files("unfinished")).toBe(0);
    expect(await exists(`artifacts/${pid}/finished/0`)).toBe(true);
    expect(await files("finished")).toBe(1);
  });
});

describe("dead letters of no project, or of one never created", () => {
  it("go after 30 days by an index range each, their blob references with them, and a known project's stay", async () => {
    const p = await createTestProject("dl-owned");
    await setRetention(p, 365);
    const now = Date.now();
    const max = (await env.DB.prepare("SELECT max(id) AS m FROM projects").first<{ m: number }>())!.m;
    const letters: [string, number | null][] = [
      [`dl-none-${crypto.randomUUID()}`, null],
      [`dl-unknown-${crypto.randomUUID()}`, max + 1000],
      [`dl-owned-${crypto.randomUUID()}`, Number(p.id)],
    ];
    for (const [id, pid] of letters) {
      await env.DB.prepare(
        `INSERT INTO dead_letters (id, queue, reason, body, attempts, created_at, project_id)
         VALUES (?, 'sluice-errors-0', 'test', '{}', 1, ?, ?)`,
      )
        .bind(id, now - 40 * DAY, pid)
        .run();
      await env.DB.prepare("INSERT INTO dead_letter_blobs (blob_key, dead_letter_id) VALUES (?, ?)")
        .bind(`claims/${id}`, id)
        .run();
    }
    await runRetention(env, now);
    const left = await env.DB.prepare(
      "SELECT id FROM dead_letters WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
      .bind(JSON.stringify(letters.map(([id]) => id)))
      .all<{ id: string }>();
    expect(left.results.map((r) => r.id)).toEqual([letters[2]![0]]);
    const refs = await env.DB.prepare(
      "SELECT dead_letter_id AS id FROM dead_letter_blobs WHERE dead_letter_id IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(letters.map(([id]) => id)))
      .all<{ id: string }>();
    expect(refs.results.map((r) => r.id)).toEqual([letters[2]![0]]);
    // Each unowned delete reads an index range, not every letter older than 30 days.
    for (const where of [
      "project_id IS NULL AND created_at < ?",
      "project_id > (SELECT coalesce(max(id), 0) FROM projects) AND created_at < ?",
    ]) {
      const plan = await env.DB.prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM dead_letters INDEXED BY dead_letters_project_created WHERE ${where} LIMIT 5000`,
      )
        .bind(now)
        .all<{ detail: string }>();
      const details = plan.results.map((r) => r.detail).join(" | ");
      expect(details).toMatch(
        /SEARCH dead_letters USING (COVERING )?INDEX dead_letters_project_created \(project_id/,
      );
    }
  });
});
