// Failed-login throttling for the dashboard's login form, in D1 (shared by every isolate). Each
// client network (an IPv4 address, an IPv6 /64) gets `perClient` attempts per window. There is no
// global limit (it would let anyone with many addresses lock the admin out). The table is bounded
// by deleting rows of past windows, and by never holding more than `maxClients` clients: a row is
// never deleted while its window is open (forgetting a client would give it a fresh window, so
// rotating through maxClients + 1 addresses, cheap with IPv6 /64s, would never be throttled);
// instead, while the table is full, every client without a row is counted in one shared overflow
// bucket. A flood of new addresses is thereby throttled together (at most perClient attempts per
// window for all of them), and only clients new during such a flood share its wait: clients with
// a row keep their own count, and the flood has to keep maxClients networks failing to last.
//
// An attempt is counted before the token is compared, in one conditional upsert that returns the
// new count, so concurrent posts from one client cannot get more than `perClient` comparisons.

import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { consoleLoginFailures } from "../../shared/db/schema";

export interface ThrottleLimits {
  windowMs: number;
  perClient: number;
  /** Clients with their own row at most; beyond it new clients share the overflow bucket. */
  maxClients: number;
}

export const LOGIN_LIMITS: ThrottleLimits = { windowMs: 15 * 60_000, perClient: 10, maxClients: 10_000 };

/**
 * The row new clients share while the table is full. clientKey never makes it: an IPv4 or IPv6
 * address has no `*`, and a header holding one would only count its sender in the overflow.
 */
export const OVERFLOW_CLIENT = "*overflow";

/**
 * The throttle key of a client address: IPv4 as is, IPv6 cut to its /64 (one subscriber usually
 * holds a whole /64), "unknown" without one.
 */
export function clientKey(ip: string | null | undefined): string {
  const v = (ip ?? "").trim().toLowerCase().slice(0, 64);
  if (!v) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (mapped) return mapped[1]!;
  if (!v.includes(":")) return v;
  const [head = "", tail] = v.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * Counts one login attempt of `client` (before its token is compared) and says whether it may be
 * compared: 0 when it may, else the seconds until the client's window ends. A successful login
 * then clears the count (clearLoginFailures); a failed one stays counted.
 */
export async function countLoginAttempt(
  db: D1Database,
  client: string,
  now = Date.now(),
  limits = LOGIN_LIMITS,
): Promise<number> {
  const expired = now - limits.windowMs;
  const [, counted] = await db.batch<{ failures: number; window_start: number }>([
    db.prepare("DELETE FROM console_login_failures WHERE window_start <= ?").bind(expired),
    // One statement (and the batch is one transaction), so concurrent new clients cannot overfill
    // the table: the client's own row when it has one or there is room, else the overflow bucket.
    // (`WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.)
    db
      .prepare(
        `INSERT INTO console_login_failures (client, window_start, failures)
         SELECT CASE
             WHEN EXISTS (SELECT 1 FROM console_login_failures WHERE client = ?1) THEN ?1
             WHEN (SELECT count(*) FROM console_login_failures WHERE client <> ?4) < ?5 THEN ?1
             ELSE ?4 END, ?2, 1
         WHERE true
         ON CONFLICT (client) DO UPDATE SET
           failures = CASE WHEN window_start <= ?3 THEN 1 ELSE failures + 1 END,
           window_start = CASE WHEN window_start <= ?3 THEN ?2 ELSE window_start END
         RETURNING failures, window_start`,
      )
      .bind(client, now, expired, OVERFLOW_CLIENT, limits.maxClients),
  ]);
  const row = counted?.results[0];
  if (!row || row.failures <= limits.perClient) return 0;
  return Math.max(1, Math.ceil((row.window_start + limits.windowMs - now) / 1000));
}

/**
 * Forgets a client's failures after it logged in. (A client counted in the overflow bucket leaves
 * the bucket as it is: clearing it would hand the flood a fresh window.)
 */
export async function clearLoginFailures(db: D1Database, client: string): Promise<void> {
  await drizzle(db).delete(consoleLoginFailures).where(eq(consoleLoginFailures.client, client));
}
