// Event ids: 32 lowercase hex characters (valid Sentry event ids), time-sortable so that the
// newest events of a project sort last by primary key and old ones can be found by prefix.

// Uniqueness comes from a random per-isolate prefix plus a counter: no entropy is drawn per id,
// which keeps id generation off the edge's profile.
// Drawn on first use: the Workers runtime forbids random values in global scope.
let isolatePrefix = "";
let counter = 0;

/**
 * `ms` as 12 hex digits: the time prefix of event, message and delivery ids, so that "older than"
 * is a key range (ledger pruning, delivery retention).
 */
export function timeHex(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  // The edge asks twice per request (event id, message id), mostly for the same millisecond.
  if (t !== lastTime) lastHex = t.toString(16).padStart(12, "0").slice(-12);
  lastTime = t;
  return lastHex;
}
let lastTime = -1;
let lastHex = "";

/** 12 hex chars of milliseconds since the epoch + 12 isolate-random + 8 counter hex chars. */
export function newEventId(nowMs: number = Date.now()): string {
  if (isolatePrefix === "") {
    isolatePrefix = randomHex(6);
    counter = Number.parseInt(randomHex(4), 16);
  }
  counter = (counter + 1) >>> 0;
  return timeHex(nowMs) + isolatePrefix + counter.toString(16).padStart(8, "0");
}

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

/** The millisecond time encoded in an id made by `newEventId` (meaningless for SDK-made ids). */
export function eventIdTime(id: string): number {
  return Number.parseInt(id.slice(0, 12), 16);
}

const UUID_RE = /^[0-9a-f]{32}$/;

/** Normalizes a Sentry-style UUID (32 hex or 36 with dashes, any case) or returns null. */
export function normalizeUuid(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const v = value.replaceAll("-", "").toLowerCase();
  return UUID_RE.test(v) ? v : null;
}
