// Event ids: 32 lowercase hex characters (valid Sentry event ids), time-sortable so that the
// newest events of a project sort last by primary key and old ones can be found by prefix.

const HEX = "0123456789abcdef";

/** 12 hex chars of milliseconds since the epoch + 20 random hex chars. */
export function newEventId(nowMs: number = Date.now()): string {
  const time = Math.floor(nowMs).toString(16).padStart(12, "0").slice(-12);
  const rnd = new Uint8Array(10);
  crypto.getRandomValues(rnd);
  let out = time;
  for (const b of rnd) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
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
