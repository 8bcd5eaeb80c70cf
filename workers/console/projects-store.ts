// Project records in the control database: creation with a fresh ingest key (placed on the least
// loaded metadata shard), look-ups, settings, the public view (DSN and Raygun endpoint) built from
// the console's public URL, and the metadata shard a route reads a project's groups from.

import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { foldIfPending } from "../../shared/db/group-fold";
import { projects } from "../../shared/db/schema";
import { projectDb, type ShardEnv } from "../../shared/db/shards";
import { ClientError } from "../../shared/http/errors";
import { type ProjectSettings, readSettings } from "../../shared/settings";

export type ProjectRow = typeof projects.$inferSelect;

export function newIngestKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function publicBase(env: { PUBLIC_URL?: string }, requestUrl: string): URL {
  return new URL(env.PUBLIC_URL && env.PUBLIC_URL.length > 0 ? env.PUBLIC_URL : new URL(requestUrl).origin);
}

export function projectView(row: ProjectRow, base: URL) {
  const path = base.pathname.replace(/\/$/, "");
  return {
    id: String(row.id),
    name: row.name,
    key: row.ingestKey,
    dsn: `${base.protocol}//${row.ingestKey}@${base.host}${path}/${row.id}`,
    raygun: { apiKey: row.ingestKey, endpoint: `${base.origin}${path}` },
    shard: row.shard,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

export async function createProject(db: D1Database, name: string, shard = 0): Promise<ProjectRow> {
  const now = Date.now();
  const [row] = await drizzle(db)
    .insert(projects)
    .values({ name, ingestKey: newIngestKey(), settings: "{}", shard, createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

export async function getProject(db: D1Database, id: string): Promise<ProjectRow | null> {
  const rows = await drizzle(db)
    .select()
    .from(projects)
    .where(eq(projects.id, Number(id)))
    .limit(1);
  return rows[0] ?? null;
}

export async function listProjects(db: D1Database): Promise<ProjectRow[]> {
  return drizzle(db).select().from(projects).orderBy(projects.id);
}

export async function saveSettings(db: D1Database, id: string, settings: ProjectSettings): Promise<void> {
  await drizzle(db)
    .update(projects)
    .set({ settings: JSON.stringify(settings), updatedAt: Date.now() })
    .where(eq(projects.id, Number(id)));
}

export async function rotateKey(db: D1Database, id: string): Promise<ProjectRow | null> {
  const [row] = await drizzle(db)
    .update(projects)
    .set({ ingestKey: newIngestKey(), updatedAt: Date.now() })
    .where(eq(projects.id, Number(id)))
    .returning();
  return row ?? null;
}

export function settingsOf(row: ProjectRow): ProjectSettings {
  return readSettings(row.settings);
}

/**
 * The metadata shard of a project the control database knows (one primary-key probe), without
 * folding its group counts: for routes that read no group (search, alert rules, artifacts) and only
 * need an unknown project to be a 404 rather than an empty list.
 *
 * @example await knownProjectDb(c.env, id);
 */
export async function knownProjectDb(env: ShardEnv, id: string | number): Promise<D1Database> {
  const db = await projectDb(env, id);
  if (!db) throw new ClientError(404, "project not found", "not_found");
  return db;
}

/**
 * The metadata shard holding a project's groups and aggregates (shared/db/shards.ts); a project the
 * control database does not know is a 404.
 *
 * @example const db = await metaDb(c.env, id);
 */
export async function metaDb(env: ShardEnv, id: string | number): Promise<D1Database> {
  const db = await knownProjectDb(env, id);
  // Group counts wait in group_deltas until a fold: fold them before any read (a failed fold
  // leaves them for the next; the read then lags rather than fails).
  await foldIfPending(db).catch((err) =>
    console.warn(JSON.stringify({ msg: "group fold before read failed", error: String(err) })),
  );
  return db;
}
