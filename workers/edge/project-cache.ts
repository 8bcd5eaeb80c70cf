// Ingest-key → project look-up with an isolate-memory cache, so the hot path does no I/O on a hit.
// Real projects and unknown keys are cached apart, so a flood of random keys can neither evict a
// real project nor cost a D1 query each: unknown keys are answered from per-prefix key sets
// (./key-buckets), and a key D1 denied is remembered in a small bounded map of its own. A bucket is
// a snapshot, so a project created after its prefix's bucket was loaded is missing from it: such a
// "certainly unknown" answer is re-checked against D1 at a small per-isolate rate, enough for real
// new projects (whose SDKs send at once) and a fixed cost under a flood. A settings change takes
// effect within the TTL (PROJECT_CACHE_TTL_SECONDS, 30 s by default).

import type { ItemPolicy } from "../../shared/queue-message";
import { type ProjectSettings, readSettings } from "../../shared/settings";
import { bucketLoading, clearKeyBuckets, knownToBucket, rememberUnknown } from "./key-buckets";

export interface ProjectRecord {
  id: string;
  key: string;
  settings: ProjectSettings;
  /** The processing settings every item of this project carries, built once per cache entry. */
  policy: ItemPolicy;
}

interface Entry {
  value: ProjectRecord;
  expires: number;
}

const KEY_RE = /^[0-9a-f]{32}$/;
/** Real projects cached per isolate; only other real projects can push one out. */
const MAX_PROJECTS = 10_000;
/** Keys D1 denied although their bucket listed them (rotated away): rare, so a small map. */
const MAX_DENIED = 1_000;
/** Re-checks of keys a loaded bucket lacks: a token bucket per isolate (burst, then per second). */
export const RECHECK_BURST = 5;
export const RECHECKS_PER_SECOND = 5;
let recheckTokens = RECHECK_BURST;
let recheckRefilledAt = 0;
const cache = new Map<string, Entry>();
const denied = new Map<string, number>();
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
  // A burst of unknown keys with one prefix waits for that prefix's single load instead of a query each.
  const loadingBucket = bucketLoading(key);
  if (loadingBucket) await loadingBucket.catch(() => undefined);
  const deniedUntil = denied.get(key);
  if (deniedUntil !== undefined && deniedUntil > now) return null;
  const absentFromBucket = knownToBucket(key) === false;
  if (absentFromBucket && !takeRecheck(now)) return null;
  let pending = inflight.get(key);
  if (!pending) {
    // Concurrent requests for the same key share one D1 query.
    pending = load(db, key).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  const value = await pending;
  const ttlMs = ttlSeconds * 1000;
  if (value) {
    cache.delete(key); // re-inserted last: eviction order is the order of refresh
    if (cache.size >= MAX_PROJECTS) cache.delete(cache.keys().next().value as string);
    cache.set(key, { value, expires: now + ttlMs });
  } else if (absentFromBucket || knownToBucket(key) === true) {
    if (denied.size >= MAX_DENIED) denied.delete(denied.keys().next().value as string);
    denied.set(key, now + ttlMs);
  } else {
    await rememberUnknown(db, key, ttlMs);
  }
  return value;
}

function takeRecheck(now: number): boolean {
  recheckTokens = Math.min(
    RECHECK_BURST,
    recheckTokens + ((now - recheckRefilledAt) / 1000) * RECHECKS_PER_SECOND,
  );
  recheckRefilledAt = now;
  if (recheckTokens < 1) return false;
  recheckTokens -= 1;
  return true;
}

/** Drops cached entries (tests, and after a key rotation in the same isolate). */
export function clearProjectCache(): void {
  cache.clear();
  denied.clear();
  clearKeyBuckets();
  recheckTokens = RECHECK_BURST;
}

/** The processing settings that travel with each item (so the processor needs no look-up). */
export function itemPolicy(project: ProjectRecord): ItemPolicy {
  return project.policy;
}
