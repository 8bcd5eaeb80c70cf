// Retention (the processor's cron): deletes what each project no longer keeps, without scanning
// all data. Work is driven by the segments table (one row per processor batch, indexed by time):
// an expired segment names the projects it holds items of and their pointer rows, deleted by
// primary key, and the R2 object goes once no project still keeps any of its events. Aggregates
// (group hours included) are deleted by primary-key range, attachments and search documents (the
// event index) per project. Groups keep their lifetime counts (Sentry's "times seen"); a group
// none of whose events remain is deleted. The message ledger is pruned once the queue can no
// longer redeliver its messages. Dead letters (D1 rows and the R2 fallback) follow their project's
// retention too. Projects and dead letters are in the control database; segment rows (each shard's
// share of a batch), pointer rows, attachments, aggregates and each ledger on the metadata shards. The orphan sweep (./orphan-sweep.ts) covers every other R2 prefix Sluice writes.
// Each run is bounded (MAX_SEGMENTS_PER_RUN); the next run continues where this one stopped.

import { foldAll } from "../../shared/db/group-fold";
import { shardDb, shardDbs } from "../../shared/db/shards";
import { timeHex } from "../../shared/ids";
import { createSearchBackend, type SearchEnv } from "../../shared/search";
import { readSettings } from "../../shared/settings";
import { expireBundles, sweepChunks } from "../../shared/sourcemaps/store";
import { expireAlertData } from "./alert-retention";
import { listFallback, UNOWNED_DEAD_LETTER_DAYS } from "./dead-letters";
import { sweepOrphans } from "./orphan-sweep";
import { QUEUE_RETENTION_DAYS } from "./queue-retention";
import { parseSegmentContents } from "./segment-contents";

export interface RetentionEnv extends SearchEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
}

export interface RetentionReport {
  segmentsExamined: number;
  segmentsDeleted: number;
  /** Items whose share of a segment expired (their records go with the R2 object). */
  eventsDeleted: number;
  /** D1 pointer rows deleted with them (items without a search document: segment-contents.ts). */
  pointerRowsDeleted: number;
  attachmentsDeleted: number;
  groupsDeleted: number;
  searchDocsDeleted: number;
  orphansDeleted: number;
  ledgerPruned: number;
  /** Fences of project moves (departed_projects) no batch in flight can need any more. */
  fencesPruned: number;
  deadLettersDeleted: number;
  /** Source-map bundles past their project's retention, and chunks never assembled. */
  artifactsDeleted: number;
}

const DAY = 86_400_000;
const MAX_SEGMENTS_PER_RUN = 200;
/** No redelivery after the queue's retention: ledger rows older than that can go. */
export const LEDGER_DAYS = QUEUE_RETENTION_DAYS;
const LEDGER_DELETE_CHUNK = 5000;
/**
 * A move's fence (departed_projects) turns away batches that read the project's pointer before
 * the move. The processor reads the pointer per batch, never caching it, and a queue consumer runs
 * at most 15 minutes, so after a day no batch can hold that pointer; the fence goes, so that the
 * trigger checking it on every ledger insert never has more than a day of moves to look at.
 */
export const FENCE_DAYS = 1;

export async function runRetention(env: RetentionEnv, now = Date.now()): Promise<RetentionReport> {
  const report: RetentionReport = {
    segmentsExamined: 0,
    segmentsDeleted: 0,
    eventsDeleted: 0,
    pointerRowsDeleted: 0,
    attachmentsDeleted: 0,
    groupsDeleted: 0,
    searchDocsDeleted: 0,
    orphansDeleted: 0,
    ledgerPruned: 0,
    fencesPruned: 0,
    deadLettersDeleted: 0,
    artifactsDeleted: 0,
  };
  const projects = (
    await env.DB.prepare("SELECT id, settings, shard FROM projects").all<{
      id: number;
      settings: string;
      shard: number;
    }>()
  ).results;
  const shardOf = new Map(projects.map((p) => [String(p.id), p.shard]));
  // A project the control database no longer knows kept its rows where shard 0 would be.
  const dbOf = (projectId: string) => shardDb(env, shardOf.get(projectId) ?? 0);
  const retention = new Map(projects.map((p) => [String(p.id), readSettings(p.settings).retentionDays]));
  if (retention.size === 0) return report;
  const cutoffOf = (projectId: string) => now - (retention.get(projectId) ?? 90) * DAY;
  const minDays = Math.min(...retention.values());

  // 1. Segments old enough that at least one project's events in them expired, shard by shard
  // (each shard holds the segment row of its projects' share of a batch).
  const shards = shardDbs(env);
  for (const shard of shards) {
    const segments = (
      await shard
        .prepare(
          "SELECT key, created_at, contents FROM segments WHERE created_at < ? ORDER BY created_at LIMIT ?",
        )
        .bind(now - minDays * DAY, MAX_SEGMENTS_PER_RUN)
        .all<{ key: string; created_at: number; contents: string }>()
    ).results;
    for (const seg of segments) {
      report.segmentsExamined++;
      const contents = parseSegmentContents(seg.contents);
      // Pointer rows first (on each project's current shard: a moved project's rows went with it;
      // idempotent), then the segment row: a run that stops in between deletes them again next time.
      const expired = Object.entries(contents).filter(([projectId]) => seg.created_at < cutoffOf(projectId));
      if (expired.length === 0) continue; // every project still keeps them
      for (const [projectId, { n, ids }] of expired) {
        if (ids.length > 0) {
          const deleted = await dbOf(projectId)
            .prepare(
              "DELETE FROM events WHERE project_id = ? AND event_id IN (SELECT value FROM json_each(?)) AND segment_key = ?",
            )
            .bind(Number(projectId), JSON.stringify(ids), seg.key)
            .run();
          report.pointerRowsDeleted += deleted.meta.changes;
        }
        report.eventsDeleted += n;
        delete contents[projectId];
      }
      if (Object.keys(contents).length > 0) {
        await shard
          .prepare("UPDATE segments SET contents = ? WHERE key = ?")
          .bind(JSON.stringify(contents), seg.key)
          .run();
        continue;
      }
      await shard.prepare("DELETE FROM segments WHERE key = ?").bind(seg.key).run();
      // The R2 object goes once no shard's row names it any more.
      const elsewhere = await Promise.all(
        shards
          .filter((d) => d !== shard)
          .map((d) => d.prepare("SELECT 1 AS x FROM segments WHERE key = ?").bind(seg.key).first()),
      );
      if (elsewhere.some((r) => r !== null)) continue;
      await env.BLOBS.delete(seg.key);
      report.segmentsDeleted++;
    }
  }

  // 2. Per project: attachments, aggregates, groups with no events left, search documents.
  const search = createSearchBackend(env);
  for (const [projectId] of retention) {
    const cutoff = cutoffOf(projectId);
    const pid = Number(projectId);
    const db = dbOf(projectId);
    const expired = (
      await db
        .prepare("DELETE FROM attachments WHERE project_id = ? AND created_at < ? RETURNING blob_key")
        .bind(pid, cutoff)
        .all<{ blob_key: string }>()
    ).results;
    if (expired.length > 0) {
      await env.BLOBS.delete(expired.map((a) => a.blob_key));
      report.attachmentsDeleted += expired.length;
    }
    // Pending group deltas carry last_seen and hours: fold them before judging what expired.
    await foldAll(db, { projectId: pid });
    const groups = await db.batch([
      db.prepare("DELETE FROM error_groups WHERE project_id = ? AND last_seen < ?").bind(pid, cutoff),
      db.prepare("DELETE FROM outcomes WHERE project_id = ? AND minute < ?").bind(pid, cutoff),
      db.prepare("DELETE FROM rum_page_minutes WHERE project_id = ? AND minute < ?").bind(pid, cutoff),
      db.prepare("DELETE FROM session_minutes WHERE project_id = ? AND minute < ?").bind(pid, cutoff),
      // Issue workflow (group-workflow.ts): facets are day-coarse, so a whole day past the cutoff.
      db.prepare("DELETE FROM group_facets WHERE project_id = ? AND last_seen < ?").bind(pid, cutoff - DAY),
      db.prepare("DELETE FROM user_feedback WHERE project_id = ? AND created_at < ?").bind(pid, cutoff),
      // Whole hours only: an hour still partly inside the retention keeps its count.
      db.prepare("DELETE FROM group_hours WHERE project_id = ? AND hour <= ?").bind(pid, cutoff - 3600_000),
    ]);
    report.groupsDeleted += groups[0]?.meta.changes ?? 0;
    await expireAlertData(env.DB, db, pid, cutoff, now);
    report.searchDocsDeleted += await search.deleteOlderThan(projectId, cutoff);
  }

  // 3. Dead letters, then every R2 object nothing refers to any more.
  report.deadLettersDeleted = await expireDeadLetters(env, now, retention);
  report.artifactsDeleted =
    (await expireBundles(env, cutoffOf, [...retention.keys()])) + (await sweepChunks(env.BLOBS, now));
  report.orphansDeleted = await sweepOrphans(env, now);
  for (const db of shardDbs(env)) {
    report.ledgerPruned += await pruneLedger(db, now);
    const fences = await db
      .prepare("DELETE FROM departed_projects WHERE departed_at < ?")
      .bind(now - FENCE_DAYS * DAY)
      .run();
    report.fencesPruned += fences.meta.changes ?? 0;
  }
  return report;
}

/**
 * Deletes ledger rows older than the queue's retention. Message ids start with their send time in
 * 12 hex digits (workers/edge/enqueue.ts), so "older" is a primary-key range: no scan.
 */
export async function pruneLedger(db: D1Database, now: number): Promise<number> {
  const cutoff = timeHex(now - LEDGER_DAYS * DAY);
  const stmt = db
    .prepare(`DELETE FROM message_ledger WHERE id IN (SELECT id FROM message_ledger WHERE id < ?
      LIMIT ${LEDGER_DELETE_CHUNK}) RETURNING 1 AS x`)
    .bind(cutoff);
  let pruned = 0;
  for (;;) {
    const n = (await stmt.all()).results.length;
    pruned += n;
    // A shard move's chunk guards ("move:…", workers/console/move-project.ts) sort after every
    // message id, so this range never reaches them: a finished move deletes its own, and those of a
    // move that stopped keep it from adding a chunk of its outbox twice when it is run again.
    if (n < LEDGER_DELETE_CHUNK) return pruned;
  }
}

/**
 * Deletes dead letters older than their project's retention (UNOWNED_DEAD_LETTER_DAYS when the
 * body names no project, or one that no longer exists), in D1 and in the R2 fallback. Their blob
 * references go with them; the blobs themselves are left to the orphan sweep, which deletes them
 * unless something else (an attachments row, a newer dead letter) still refers to them.
 */
async function expireDeadLetters(
  env: RetentionEnv,
  now: number,
  retention: Map<string, number>,
): Promise<number> {
  const cutoffOf = (projectId: string) => now - (retention.get(projectId) ?? UNOWNED_DEAD_LETTER_DAYS) * DAY;
  const statements = [...retention].map(([projectId]) =>
    env.DB.prepare("DELETE FROM dead_letters WHERE project_id = ? AND created_at < ?").bind(
      Number(projectId),
      cutoffOf(projectId),
    ),
  );
  statements.push(
    env.DB.prepare(
      `DELETE FROM dead_letters WHERE (project_id IS NULL OR project_id NOT IN (SELECT id FROM projects))
        AND created_at < ?`,
    ).bind(now - UNOWNED_DEAD_LETTER_DAYS * DAY),
    env.DB.prepare("DELETE FROM dead_letter_blobs WHERE dead_letter_id NOT IN (SELECT id FROM dead_letters)"),
  );
  const results = await env.DB.batch(statements);
  let deleted = results.slice(0, -1).reduce((n, r) => n + (r.meta.changes ?? 0), 0);

  let cursor: string | undefined;
  do {
    const page = await listFallback(env.BLOBS, cursor);
    const expired = page.objects.filter((o) => {
      const created = Number(o.customMetadata?.createdAt) || o.uploaded.getTime();
      return created < cutoffOf(o.customMetadata?.projectId ?? "");
    });
    if (expired.length > 0) {
      await env.BLOBS.delete(expired.map((o) => o.key));
      deleted += expired.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}
