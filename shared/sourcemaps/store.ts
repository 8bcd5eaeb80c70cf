// The artifact store: source maps in R2 (one object per map, under artifacts/<project>/<bundle>/),
// indexed in the control database (artifact_bundles, artifact_files) by debug id and by release +
// `~/` URL. Writers are idempotent: a bundle's id is its checksum, rows are upserted, and R2 keys
// are derived from the bundle, so a retried upload rewrites the same objects.

import { walkPrefix } from "../storage/sweep-cursor";
import type { ArtifactBundle } from "./bundle";
import { CHUNK_TTL_MS, MAX_PUT_IN_FLIGHT } from "./limits";

export interface ArtifactEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
}

export interface BundleRow {
  id: string;
  source: string;
  release: string;
  dist: string;
  files: number;
  bytes: number;
  createdAt: number;
}

export interface FileRow {
  bundleId: string;
  url: string;
  kind: string;
  debugId: string | null;
  release: string;
  dist: string;
  mapUrl: string | null;
  blobKey: string;
  size: number;
  createdAt: number;
}

const FILE_COLUMNS = `bundle_id AS bundleId, url, kind, debug_id AS debugId, release, dist, map_url AS mapUrl,
  blob_key AS blobKey, size, created_at AS createdAt`;

export const bundlePrefix = (projectId: number, bundleId: string) => `artifacts/${projectId}/${bundleId}/`;

/** The bundle's files, one per (url, kind): the row key, so a second one would orphan a blob. */
function distinctFiles(files: ArtifactBundle["files"]): ArtifactBundle["files"] {
  return [...new Map(files.map((f) => [`${f.kind}\n${f.url}`, f])).values()];
}

/**
 * Writes blobs concurrently, with at most MAX_PUT_IN_FLIGHT bytes (or one bigger blob) and 32
 * writes in flight: R2 copies what it sends, and a bundle's maps together are far bigger.
 */
async function putAll(blobs: R2Bucket, items: { key: string; bytes: Uint8Array; url: string }[]) {
  const inFlight = new Set<Promise<unknown>>();
  let bytes = 0;
  for (const item of items) {
    const size = item.bytes.byteLength;
    while (inFlight.size > 0 && (bytes + size > MAX_PUT_IN_FLIGHT || inFlight.size >= 32))
      await Promise.race(inFlight);
    bytes += size;
    const put: Promise<unknown> = blobs
      .put(item.key, item.bytes, { customMetadata: { url: item.url.slice(0, 1000) } })
      .finally(() => {
        bytes -= size;
        inFlight.delete(put);
      });
    inFlight.add(put);
  }
  await Promise.all(inFlight);
}

/**
 * Stores a parsed bundle: its maps in R2, then its file rows, then its bundle row. The bundle row
 * comes last, in the last D1 batch, so its existence means the bundle is complete (the assemble
 * route answers "ok" on it); a save that fails part-way leaves no bundle row, and the retried
 * assemble rewrites the same keys and rows.
 */
export async function saveBundle(
  env: ArtifactEnv,
  projectId: number,
  bundleId: string,
  bundle: ArtifactBundle,
  source: "sentry-cli" | "raygun",
  now = Date.now(),
): Promise<BundleRow> {
  const prefix = bundlePrefix(projectId, bundleId);
  const rows = distinctFiles(bundle.files).map((f, i) => ({ ...f, blobKey: f.bytes ? `${prefix}${i}` : "" }));
  const bytes = rows.reduce((sum, f) => sum + (f.bytes ? f.size : 0), 0);
  await putAll(
    env.BLOBS,
    rows.flatMap((f) => (f.bytes ? [{ key: f.blobKey, bytes: f.bytes, url: f.url }] : [])),
  );
  const statements = [
    ...rows.map((f) =>
      env.DB.prepare(
        `INSERT OR REPLACE INTO artifact_files
         (project_id, bundle_id, url, kind, debug_id, release, dist, map_url, blob_key, size, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).bind(
        projectId,
        bundleId,
        f.url,
        f.kind,
        f.debugId,
        bundle.release,
        bundle.dist,
        f.mapUrl,
        f.blobKey,
        f.size,
        now,
      ),
    ),
    env.DB.prepare(
      `INSERT INTO artifact_bundles (project_id, id, source, release, dist, files, bytes, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, id) DO UPDATE SET files = excluded.files, bytes = excluded.bytes`,
    ).bind(projectId, bundleId, source, bundle.release, bundle.dist, rows.length, bytes, now),
  ];
  // D1 batches are one transaction each; very large bundles go in several, in order.
  for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
  return {
    id: bundleId,
    source,
    release: bundle.release,
    dist: bundle.dist,
    files: rows.length,
    bytes,
    createdAt: now,
  };
}

export async function findBundle(
  db: D1Database,
  projectId: number,
  bundleId: string,
): Promise<BundleRow | null> {
  return db
    .prepare(
      `SELECT id, source, release, dist, files, bytes, created_at AS createdAt FROM artifact_bundles
       WHERE project_id = ? AND id = ?`,
    )
    .bind(projectId, bundleId)
    .first<BundleRow>();
}

/** A project's bundles, newest first, a page at a time (`before`: createdAt of the last one seen). */
export async function listBundles(
  db: D1Database,
  projectId: number,
  options: { limit?: number; before?: number; source?: string } = {},
): Promise<BundleRow[]> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const { results } = await db
    .prepare(
      `SELECT id, source, release, dist, files, bytes, created_at AS createdAt FROM artifact_bundles
       WHERE project_id = ? AND created_at < ? AND (? IS NULL OR source = ?)
       ORDER BY created_at DESC LIMIT ?`,
    )
    .bind(
      projectId,
      options.before ?? Number.MAX_SAFE_INTEGER,
      options.source ?? null,
      options.source ?? null,
      limit,
    )
    .all<BundleRow>();
  return results;
}

export async function listFiles(db: D1Database, projectId: number, bundleId: string): Promise<FileRow[]> {
  const { results } = await db
    .prepare(
      `SELECT ${FILE_COLUMNS} FROM artifact_files WHERE project_id = ? AND bundle_id = ? ORDER BY url LIMIT 1000`,
    )
    .bind(projectId, bundleId)
    .all<FileRow>();
  return results;
}

/**
 * Deletes a bundle: rows first (nothing resolves to it any more), then every R2 object under its
 * prefix, listed rather than read from its rows, so no file count and no blob a row lost (an
 * interrupted save) is left behind.
 */
export async function deleteBundle(env: ArtifactEnv, projectId: number, bundleId: string): Promise<boolean> {
  const [files, gone] = await env.DB.batch([
    env.DB.prepare("DELETE FROM artifact_files WHERE project_id = ? AND bundle_id = ?").bind(
      projectId,
      bundleId,
    ),
    env.DB.prepare("DELETE FROM artifact_bundles WHERE project_id = ? AND id = ?").bind(projectId, bundleId),
  ]);
  let blobs = 0;
  // Each round deletes what it listed, so the next listing starts over; the bound only stops a
  // bucket that keeps refusing deletes from looping forever.
  for (let round = 0; round < 1000; round++) {
    const page = await env.BLOBS.list({ prefix: bundlePrefix(projectId, bundleId), limit: 1000 });
    if (page.objects.length === 0) break;
    await env.BLOBS.delete(page.objects.map((o) => o.key));
    blobs += page.objects.length;
  }
  return (gone?.meta.changes ?? 0) > 0 || (files?.meta.changes ?? 0) > 0 || blobs > 0;
}

/** The newest source map with this debug id. */
export function mapByDebugId(db: D1Database, projectId: number, debugId: string): Promise<FileRow | null> {
  return db
    .prepare(
      `SELECT ${FILE_COLUMNS} FROM artifact_files WHERE project_id = ? AND debug_id = ? AND kind = 'source_map'
       ORDER BY created_at DESC LIMIT 1`,
    )
    .bind(projectId, debugId)
    .first<FileRow>();
}

/**
 * The map for a minified file's `~/` URL in a release: the file's own `sourcemap` reference, else
 * a map uploaded for that URL (Raygun), else `<url>.map`. Release-less uploads (Raygun, debug-id
 * bundles) match any release, after the event's own release and dist.
 */
export async function mapByUrl(
  db: D1Database,
  projectId: number,
  url: string,
  release: string,
  dist: string,
): Promise<FileRow | null> {
  const { results } = await db
    .prepare(
      `SELECT ${FILE_COLUMNS} FROM artifact_files
       WHERE project_id = ? AND url IN (?, ?) AND release IN (?, '')
       ORDER BY release = '' ASC, dist = ? DESC, created_at DESC LIMIT 10`,
    )
    .bind(projectId, url, `${url}.map`, release, dist)
    .all<FileRow>();
  // The event's own release before release-less uploads; within each, a map uploaded for the URL,
  // then the minified file's reference, then `<url>.map`.
  const rank = (r: FileRow) =>
    (r.release === "" ? 3 : 0) +
    (r.url === url && r.kind === "source_map" ? 0 : r.url === url && r.kind === "minified_source" ? 1 : 2);
  const candidates = results
    .filter((r) => r.kind === "source_map" || (r.url === url && r.mapUrl))
    .sort((a, b) => rank(a) - rank(b));
  for (const r of candidates) {
    if (r.kind === "source_map") return r;
    const map = await db
      .prepare(
        `SELECT ${FILE_COLUMNS} FROM artifact_files
         WHERE project_id = ? AND bundle_id = ? AND url = ? AND kind = 'source_map'`,
      )
      .bind(projectId, r.bundleId, r.mapUrl)
      .first<FileRow>();
    if (map) return map;
  }
  return null;
}

/** Whether a project has any artifact (events of projects without maps skip every look-up). */
export async function hasArtifacts(db: D1Database, projectId: number): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS x FROM artifact_bundles WHERE project_id = ? LIMIT 1")
    .bind(projectId)
    .first();
  return row !== null;
}

/**
 * Deletes bundles older than their project's retention, oldest first, a bounded number per run
 * (the retention cron calls it every 30 minutes).
 */
export async function expireBundles(
  env: ArtifactEnv,
  cutoffOf: (projectId: string) => number,
  projectIds: string[],
  perRun = 200,
): Promise<number> {
  let deleted = 0;
  for (const projectId of projectIds) {
    const { results } = await env.DB.prepare(
      "SELECT id FROM artifact_bundles WHERE project_id = ? AND created_at < ? ORDER BY created_at LIMIT ?",
    )
      .bind(Number(projectId), cutoffOf(projectId), perRun - deleted)
      .all<{ id: string }>();
    for (const { id } of results) if (await deleteBundle(env, Number(projectId), id)) deleted++;
    if (deleted >= perRun) break;
  }
  return deleted;
}

/**
 * Chunks go CHUNK_TTL_MS after their last upload, assembled or not (they are shared by every
 * project, so no assemble may delete them). Pages through chunks/ up to `maxKeys` keys a run,
 * resuming after the last key the previous run listed (walkPrefix, as the orphan sweep's
 * sweepPrefix) and starting over once it reaches the end: chunk keys are content hashes, in no time
 * order, so a window always starting at the beginning would never reach stale chunks past it.
 */
export async function sweepChunks(
  env: { DB: D1Database; BLOBS: R2Bucket },
  now = Date.now(),
  maxKeys = 10_000,
): Promise<number> {
  let swept = 0;
  await walkPrefix(env, "chunks/", { maxKeys, now }, async (objects) => {
    const stale = objects.filter((o) => now - o.uploaded.getTime() > CHUNK_TTL_MS).map((o) => o.key);
    if (stale.length > 0) await env.BLOBS.delete(stale);
    swept += stale.length;
  });
  return swept;
}
