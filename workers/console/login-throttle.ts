// Failed-login throttling for the dashboard's login form, in D1 (shared by every isolate). Each
// client network (an IPv4 address, an IPv6 /64) gets `perClient` failures per window; all clients
// together get `global` failures per window, which also bounds the table: a new client row is only
// written while the global count is under its limit, and rows of past windows are deleted.

import { eq, inArray, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { consoleLoginFailures } from "../../shared/db/schema";

export interface ThrottleLimits {
  windowMs: number;
  perClient: number;
  global: number;
}

export const LOGIN_LIMITS: ThrottleLimits = { windowMs: 15 * 60_000, perClient: 10, global: 1000 };

/** The row that counts every client's failures together. */
const ALL = "*";

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

/** Seconds until `client` may try again, or 0 when it may try now. */
export async function loginRetryAfter(
  db: D1Database,
  client: string,
  now = Date.now(),
  limits = LOGIN_LIMITS,
): Promise<number> {
  const rows = await drizzle(db)
    .select()
    .from(consoleLoginFailures)
    .where(inArray(consoleLoginFailures.client, [client, ALL]));
  let until = 0;
  for (const r of rows) {
    const limit = r.client === ALL ? limits.global : limits.perClient;
    const end = r.windowStart + limits.windowMs;
    if (end > now && r.failures >= limit) until = Math.max(until, end);
  }
  return until > now ? Math.ceil((until - now) / 1000) : 0;
}

/** Counts one failed login of `client` (and of all clients); drops rows of past windows. */
export async function recordLoginFailure(
  db: D1Database,
  client: string,
  now = Date.now(),
  limits = LOGIN_LIMITS,
): Promise<void> {
  const d = drizzle(db);
  const t = consoleLoginFailures;
  const bump = (key: string) =>
    d
      .insert(t)
      .values({ client: key, windowStart: now, failures: 1 })
      .onConflictDoUpdate({ target: t.client, set: { failures: sql`${t.failures} + 1` } });
  await d.batch([d.delete(t).where(lte(t.windowStart, now - limits.windowMs)), bump(ALL), bump(client)]);
}

/** Forgets a client's failures after it logged in. */
export async function clearLoginFailures(db: D1Database, client: string): Promise<void> {
  await drizzle(db).delete(consoleLoginFailures).where(eq(consoleLoginFailures.client, client));
}
