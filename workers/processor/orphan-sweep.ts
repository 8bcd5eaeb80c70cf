// The retention cron's sweep of what Sluice writes to R2 outside retention's time-indexed tables:
//
//   segments/<day>/<hour>/… processor batches; a PUT whose segments row was never written (the row
//                           failed, or a crash before it) leaves one without a row (walked once in
//                           key order: sweep_cursors). A row written before a failed batch keeps
//                           its object until the row's retention: it names items never counted.
//   claims/<pid>/<event>    payloads > 100 KB, written by the edge, deleted once stored
//   attachments/<pid>/<event>/…  binary items, written by the edge, linked by an attachments row
//   artifacts/<pid>/<bundle>/…   source maps of a bundle, written before its rows; a save that
//                           never finished (no artifact_bundles row a day later) leaves them, and
//                           maybe some artifact_files rows, which go with them
//
// A claim or attachment is kept while an attachments row or a dead letter refers to it, or while
// its item may still be in a queue (QUEUE_RETENTION_MS, whatever the project's retention: a
// backlog can hold an item longer than a short retention, and its claim must still be there). Claims and attachments are not partitioned by day,
// so each run lists a bounded number of keys and resumes after the last one (sweep_cursors).
// R2 dead letters (dead-letters/) expire with their project's retention in retention.ts. Dead
// letters are in the control database; segment rows on every shard; attachments on the project's.

import { shardDbs } from "../../shared/db/shards";
import { cursorUpsert, loadCursor, walkPrefix } from "../../shared/storage/sweep-cursor";
import { listFallback } from "./dead-letters";
import { QUEUE_RETENTION_MS } from "./queue-retention";

export interface SweepEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
}

const DAY = 86_400_000;
/** A segment object without a row this long after it was written was left by a crash mid-batch. */
const SEGMENT_ORPHAN_MS = 3600_000;
/** Keys listed per prefix per run (pages of 1000). */
const KEYS_PER_RUN = 5000;
const PAGES_PER_RUN = KEYS_PER_RUN / 1000;
/** A bundle's save (one assemble request) takes minutes at most; a day later it never will finish. */
const UNFINISHED_BUNDLE_MS = DAY;
const ARTIFACTS_CURSOR = "artifacts/";

/**
 * The most D1 calls one sweepOrphans run makes with `shards` metadata shards (retention keeps
 * them in reserve): per page, the segment sweep asks every shard, the claims and attachments
 * sweeps the control database and every shard, the artifacts sweep two calls; each sweep loads and
 * saves its cursor.
 */
export function orphanSweepCalls(shards: number): number {
  return PAGES_PER_RUN * (shards + 2 * (1 + shards) + 2) + 4 * 2;
}

async function deleteKeys(env: SweepEnv, keys: string[]): Promise<number> {
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
  return keys.length;
}

const SEGMENT_CURSOR = "segments/";

/** `segments/<day>/<hour>/` of a time (shared/storage/segments.ts segmentKey: keys sort by time). */
const hourPrefix = (t: number) => {
  const d = new Date(t).toISOString();
  return `segments/${d.slice(0, 10)}/${d.slice(11, 13)}/`;
};

/**
 * Orphan segments (R2 written, its segments row never). Segment keys sort by the hour they were
 * written in, so the sweep walks them once, in key order, from where the previous run stopped
 * (sweep_cursors), at most KEYS_PER_RUN a run: listing the last two days every run would grow with
 * the traffic. It stops before the hour that may still hold segments younger than
 * SEGMENT_ORPHAN_MS (their batch may yet commit), and goes on from there next time. The first run
 * starts a day back, as far as the sweep looked before it had a cursor.
 */
export async function sweepSegments(env: SweepEnv, now: number): Promise<number> {
  let after =
    (await loadCursor(env.DB, SEGMENT_CURSOR)) ||
    hourPrefix(now - DAY).slice(0, "segments/YYYY-MM-DD/".length);
  // Every key before this one was written in an hour that ended SEGMENT_ORPHAN_MS ago or more.
  const end = hourPrefix(now - SEGMENT_ORPHAN_MS);
  let listed = 0;
  let deleted = 0;
  while (listed < KEYS_PER_RUN && after < end) {
    const page = await env.BLOBS.list({ prefix: "segments/", startAfter: after, limit: 1000 });
    const ready = page.objects.filter((o) => o.key < end);
    listed += ready.length;
    const old = ready.filter((o) => now - o.uploaded.getTime() > SEGMENT_ORPHAN_MS);
    if (old.length > 0) {
      // A segment is known while any metadata shard's row names it.
      const keys = JSON.stringify(old.map((o) => o.key));
      const found = await Promise.all(
        shardDbs(env).map((db) =>
          db
            .prepare("SELECT key FROM segments WHERE key IN (SELECT value FROM json_each(?))")
            .bind(keys)
            .all<{ key: string }>(),
        ),
      );
      const known = new Set(found.flatMap((r) => r.results.map((x) => x.key)));
      deleted += await deleteKeys(
        env,
        old.filter((o) => !known.has(o.key)).map((o) => o.key),
      );
    }
    after = ready.at(-1)?.key ?? after;
    if (!page.truncated || ready.length < page.objects.length) break; // at the end, or at `end`
  }
  await cursorUpsert(env.DB, SEGMENT_CURSOR, after, now).run();
  return deleted;
}

/** R2 list pages of fallback dead letters a run reads (at most 1,000 keys each) before it gives up on them. */
export const FALLBACK_PAGES = 20;

/**
 * Blob keys that R2-fallback dead letters refer to (they have no dead_letter_blobs rows), or null
 * when there are more fallback letters than `maxPages` list pages (a long D1 outage): then the
 * blobs they may refer to cannot all be known this run, and the sweeps that would need them wait
 * (the letters are replayed, or expire, 10,000 a run) rather than list millions of keys every run.
 */
export async function fallbackRefs(env: SweepEnv, maxPages = FALLBACK_PAGES): Promise<Set<string> | null> {
  const refs = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    if (pages++ === maxPages) return null;
    const page = await listFallback(env.BLOBS, cursor);
    for (const o of page.objects) {
      try {
        for (const k of JSON.parse(o.customMetadata?.blobs ?? "[]") as string[]) refs.add(k);
      } catch {
        /* metadata cut short: its blobs age out like unreferenced ones */
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return refs;
}

/** Which of `keys` a dead letter or an attachments row refers to. */
async function referenced(env: SweepEnv, keys: string[], fallback: Set<string>): Promise<Set<string>> {
  // attachments/<pid>/<eventId>/…: probed by the attachments primary key, then the exact key.
  const attachments = keys
    .filter((k) => k.startsWith("attachments/"))
    .map((k) => [Number(k.split("/")[1]), k.split("/")[2] ?? "", k]);
  const dl = await env.DB.prepare(
    "SELECT blob_key AS key FROM dead_letter_blobs WHERE blob_key IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(keys))
    .all<{ key: string }>();
  // Attachments rows live on their project's metadata shard (shared/db/shards.ts), but while a
  // move runs, or after one stopped half way, some are still on another shard or in its move
  // outbox: every shard is asked, for the rows and for outboxed chunks of them.
  const att =
    attachments.length === 0
      ? []
      : await Promise.all(
          shardDbs(env).map((db) =>
            db
              .prepare(
                `SELECT a.blob_key AS key FROM json_each(?1) j CROSS JOIN attachments a
                  ON a.project_id = j.value->>0 AND a.event_id = j.value->>1 AND a.blob_key = j.value->>2
                 WHERE true
                 UNION SELECT j.value->>2 AS key FROM json_each(?1) j
                 WHERE EXISTS (SELECT 1 FROM move_outbox o WHERE o.project_id = j.value->>0
                   AND o.table_name = 'attachments' AND instr(o.rows, json_quote(j.value->>2)) > 0)`,
              )
              .bind(JSON.stringify(attachments))
              .all<{ key: string }>(),
          ),
        );
  const out = new Set<string>();
  for (const r of [...dl.results, ...att.flatMap((a) => a.results)]) out.add(r.key);
  for (const k of keys) if (fallback.has(k)) out.add(k);
  return out;
}

/**
 * Sweeps up to KEYS_PER_RUN keys of `claims/` or `attachments/`, resuming after the key where the
 * previous run stopped; deletes the unreferenced ones past their in-flight window.
 */
export async function sweepPrefix(
  env: SweepEnv,
  prefix: "claims/" | "attachments/",
  now: number,
  fallback: Set<string>,
): Promise<number> {
  let deleted = 0;
  await walkPrefix(env, prefix, { maxKeys: KEYS_PER_RUN, now }, async (objects) => {
    // Never before the queue has given up on its item: the processor still needs it.
    const old = objects.filter((o) => now - o.uploaded.getTime() > QUEUE_RETENTION_MS);
    if (old.length === 0) return;
    const keep = await referenced(
      env,
      old.map((o) => o.key),
      fallback,
    );
    deleted += await deleteKeys(
      env,
      old.filter((o) => !keep.has(o.key)).map((o) => o.key),
    );
  });
  return deleted;
}

/**
 * Source maps of bundles whose save never finished: objects under artifacts/<pid>/<bundle>/ a day
 * old whose bundle has no artifact_bundles row (its last statement), with the file rows the save
 * had written. Walks the prefix KEYS_PER_RUN keys a run from where the last run stopped.
 */
export async function sweepArtifacts(env: SweepEnv, now: number): Promise<number> {
  let deleted = 0;
  await walkPrefix(env, ARTIFACTS_CURSOR, { maxKeys: KEYS_PER_RUN, now }, async (objects) => {
    // "<pid>/<bundle>" → that bundle's keys on this page old enough for its save to have ended.
    const old = new Map<string, { pair: [string, string]; keys: string[] }>();
    for (const o of objects) {
      if (now - o.uploaded.getTime() <= UNFINISHED_BUNDLE_MS) continue;
      const [, pid, bundle] = o.key.split("/");
      if (!pid || !bundle) continue;
      const id = `${pid}/${bundle}`;
      const entry = old.get(id) ?? old.set(id, { pair: [pid, bundle], keys: [] }).get(id)!;
      entry.keys.push(o.key);
    }
    if (old.size === 0) return;
    const kept = await env.DB.prepare(
      `SELECT b.project_id || '/' || b.id AS id FROM json_each(?) j
         JOIN artifact_bundles b ON b.project_id = j.value->>0 AND b.id = j.value->>1`,
    )
      .bind(JSON.stringify([...old.values()].map((e) => e.pair)))
      .all<{ id: string }>();
    for (const r of kept.results) old.delete(r.id);
    if (old.size === 0) return;
    // Rows first (nothing resolves to these maps any more), then the objects.
    await env.DB.prepare(
      `DELETE FROM artifact_files WHERE (project_id, bundle_id) IN (SELECT j.value->>0, j.value->>1 FROM json_each(?) j)
         AND NOT EXISTS (SELECT 1 FROM artifact_bundles b WHERE b.project_id = artifact_files.project_id
           AND b.id = artifact_files.bundle_id)`,
    )
      .bind(JSON.stringify([...old.values()].map((e) => e.pair)))
      .run();
    deleted += await deleteKeys(
      env,
      [...old.values()].flatMap((e) => e.keys),
    );
  });
  return deleted;
}

/** Every R2 sweep of a retention run; returns the number of objects deleted. */
export async function sweepOrphans(
  env: SweepEnv,
  now: number,
  fallbackPages = FALLBACK_PAGES,
): Promise<number> {
  const fallback = await fallbackRefs(env, fallbackPages);
  let deleted = await sweepSegments(env, now);
  // Claims and attachments may be what a fallback dead letter refers to: swept only when all of
  // those letters could be read.
  if (fallback === null)
    console.warn(
      JSON.stringify({
        msg: "orphan sweep of claims and attachments skipped: too many R2-fallback dead letters to read",
        pages: fallbackPages,
      }),
    );
  else
    for (const prefix of ["claims/", "attachments/"] as const)
      deleted += await sweepPrefix(env, prefix, now, fallback);
  deleted += await sweepArtifacts(env, now);
  return deleted;
}
