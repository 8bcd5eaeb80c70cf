// Ingest-key → project look-up with an isolate-memory cache, so the hot path does no I/O on a hit.
// Misses (unknown keys) are cached too, so a flood of bad keys cannot hammer D1. A settings change
// takes effect within the TTL (PROJECT_CACHE_TTL_SECONDS, 30 s by default).

import type { ItemPolicy } from "../../shared/queue-message";
import { type ProjectSettings, readSettings } from "../../shared/settings";

export interface ProjectRecord {
  id: string;
  key: string;
  settings: ProjectSettings;
  /** The processing settings every item of this project carries, built once per cache entry. */
  policy: ItemPolicy;
}

interface Entry {
  value: ProjectRecord | null;
  expires: number;
}

const KEY_RE = /^[0-9a-f]{32}$/;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, Entry>();
const inflight = new Map<string, Promise<ProjectRecord | null>>();

/** Constant-time comparison of two ingest keys (both already 32 hex chars). */
export function keysEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function isWellFormedKey(key: string): boolean {
  return KEY_RE.test(key);
}

async function load(db: D1Database, key: string): Promise<ProjectRecord | null> {
  const row = await db
    .prepare("SELECT id, ingest_key, settings FROM projects WHERE ingest_key = ?1")
    .bind(key)
    .first<{ id: number; ingest_key: string; settings: string }>();
  if (!row || !keysEqual(row.ingest_key, key)) return null;
  const settings = readSettings(row.settings);
  return {
    id: String(row.id),
    key: row.ingest_key,
    settings,
    policy: { scrubbing: settings.scrubbing, retentionDays: settings.retentionDays },
  };
}

/** Resolves an ingest key to its project, or null for an unknown or malformed key. */
export async function lookupProject(
  db: D1Database,
  rawKey: string,
  ttlSeconds: number,
): Promise<ProjectRecord | null> {
  const key = rawKey.trim().toLowerCase();
  if (!isWellFormedKey(key)) return null;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expires > now) return hit.value;
  let pending = inflight.get(key);
  if (!pending) {
    // Concurrent requests for the same key share one D1 query.
    pending = load(db, key).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  const value = await pending;
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(key, { value, expires: now + ttlSeconds * 1000 });
  return value;
}

/** Drops cached entries (tests, and after a key rotation in the same isolate). */
export function clearProjectCache(): void {
  cache.clear();
}

/** The processing settings that travel with each item (so the processor needs no look-up). */
export function itemPolicy(project: ProjectRecord): ItemPolicy {
  return project.policy;
}
