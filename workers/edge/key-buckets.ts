// Answers "no such ingest key" without D1 for keys nobody owns. Ingest keys are public and any
// well-formed string is a candidate, so caching each unknown key would cost one D1 query per random
// key. Instead, the first unknown key seen with a given two-hex-digit prefix loads every existing key
// with that prefix (one indexed range query over projects_ingest_key_unique) into a sorted table of
// 16 bytes per key; until it expires, any other key with that prefix is answered from memory. A flood
// of random keys thus costs at most 256 queries per TTL per isolate, whatever its size.
//
// The price: a key created (or rotated in) after its bucket was loaded is refused until the bucket
// expires — the same bound as a settings change (PROJECT_CACHE_TTL_SECONDS). Buckets are only loaded
// when an unknown key shows up, so ordinary traffic never sees that delay.

const PREFIX_CHARS = 2;
const WORDS = 4; // 32 hex chars = 4 × 32-bit words

interface Bucket {
  /** Sorted keys, WORDS words each. */
  words: Uint32Array;
  expires: number;
}

const buckets = new Map<string, Bucket>();
const loading = new Map<string, Promise<Bucket>>();

function toWords(key: string, out: Uint32Array, at: number): void {
  for (let w = 0; w < WORDS; w++) out[at + w] = Number.parseInt(key.slice(w * 8, w * 8 + 8), 16);
}

function compare(words: Uint32Array, at: number, key: Uint32Array): number {
  for (let w = 0; w < WORDS; w++) {
    const d = (words[at + w] as number) - (key[w] as number);
    if (d !== 0) return d;
  }
  return 0;
}

function bucketHas(bucket: Bucket, key: string): boolean {
  const probe = new Uint32Array(WORDS);
  toWords(key, probe, 0);
  let lo = 0;
  let hi = bucket.words.length / WORDS - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(bucket.words, mid * WORDS, probe);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

async function loadBucket(db: D1Database, prefix: string, ttlMs: number): Promise<Bucket> {
  // Hex digits sort below "g", so [prefix, prefix + "g") is exactly the keys with that prefix.
  const { results } = await db
    .prepare("SELECT ingest_key FROM projects WHERE ingest_key >= ?1 AND ingest_key < ?2 ORDER BY ingest_key")
    .bind(prefix, `${prefix}g`)
    .all<{ ingest_key: string }>();
  const keys = results.map((r) => r.ingest_key).filter((k) => /^[0-9a-f]{32}$/.test(k));
  const words = new Uint32Array(keys.length * WORDS);
  for (let i = 0; i < keys.length; i++) toWords(keys[i] as string, words, i * WORDS);
  const bucket = { words, expires: Date.now() + ttlMs };
  buckets.set(prefix, bucket);
  return bucket;
}

/**
 * From memory: false when the key's bucket is loaded and lacks it (certainly unknown), true when the
 * bucket has it, undefined when the bucket is not loaded (ask D1). `key` is 32 lowercase hex chars.
 */
export function knownToBucket(key: string): boolean | undefined {
  const bucket = buckets.get(key.slice(0, PREFIX_CHARS));
  if (!bucket || bucket.expires <= Date.now()) return undefined;
  return bucketHas(bucket, key);
}

/** The load of the key's bucket, when one is in flight (a caller may wait for it instead of asking D1). */
export function bucketLoading(key: string): Promise<unknown> | undefined {
  return loading.get(key.slice(0, PREFIX_CHARS));
}

/** Loads the bucket of an unknown key (concurrent callers share one query). */
export async function rememberUnknown(db: D1Database, key: string, ttlMs: number): Promise<void> {
  const prefix = key.slice(0, PREFIX_CHARS);
  if (knownToBucket(key) !== undefined) return;
  let pending = loading.get(prefix);
  if (!pending) {
    pending = loadBucket(db, prefix, ttlMs).finally(() => loading.delete(prefix));
    loading.set(prefix, pending);
  }
  await pending;
}

/** Forgets every bucket (tests, and the project cache's reset). */
export function clearKeyBuckets(): void {
  buckets.clear();
}
