// Server-side dashboard sessions in D1. A login draws a random id (the cookie); only its SHA-256 is
// stored, with the admin token's fingerprint and two clocks: a session ends after SESSION_IDLE_MS
// without use, SESSION_MAX_MS after login, at logout, or when the admin token changes.

import { and, desc, eq, lt, ne, notInArray, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { consoleSessions } from "../../shared/db/schema";
import { hmacHex, safeEqual, sha256Hex } from "../../shared/digest";
import { randomHex } from "../../shared/ids";

export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 86_400_000;
/** Last use is written at most this often, so a busy dashboard does not write a row per page. */
const TOUCH_MS = 5 * 60_000;
/** Logins beyond this many live sessions push out the oldest (a looping script cannot grow the table). */
export const MAX_SESSIONS = 100;

const SESSION_ID = /^[0-9a-f]{64}$/;

/**
 * What sessions are bound to: derived from the admin token, so changing the token revokes every
 * session, while the stored value does not reveal the token itself.
 */
const tokenFingerprint = (token: string) => hmacHex(token, "sluice-console-session-v2");

export interface Session {
  idHash: string;
  createdAt: number;
  lastSeenAt: number;
}

/**
 * Starts a session for the holder of `token` and returns its id (the cookie value); also deletes
 * expired sessions, those of an earlier admin token, and the oldest beyond MAX_SESSIONS.
 *
 * @example setCookie(c, SESSION_COOKIE, await createSession(c.env.DB, token));
 */
export async function createSession(db: D1Database, token: string, now = Date.now()): Promise<string> {
  const id = randomHex(32);
  const fingerprint = await tokenFingerprint(token);
  const d = drizzle(db);
  const s = consoleSessions;
  const newest = d.select({ id: s.idHash }).from(s).orderBy(desc(s.createdAt)).limit(MAX_SESSIONS);
  await d.batch([
    d
      .delete(s)
      .where(
        or(
          lt(s.lastSeenAt, now - SESSION_IDLE_MS),
          lt(s.createdAt, now - SESSION_MAX_MS),
          ne(s.tokenFingerprint, fingerprint),
        ),
      ),
    d.insert(s).values({
      idHash: await sha256Hex(id),
      tokenFingerprint: fingerprint,
      createdAt: now,
      lastSeenAt: now,
    }),
    d.delete(s).where(notInArray(s.idHash, newest)),
  ]);
  return id;
}

/** The live session with this id under the current admin token, or null (an ended one is deleted). */
export async function findSession(
  db: D1Database,
  id: string,
  token: string,
  now = Date.now(),
): Promise<Session | null> {
  if (!SESSION_ID.test(id)) return null;
  const d = drizzle(db);
  const idHash = await sha256Hex(id);
  const [row] = await d.select().from(consoleSessions).where(eq(consoleSessions.idHash, idHash)).limit(1);
  if (!row) return null;
  const live =
    safeEqual(row.tokenFingerprint, await tokenFingerprint(token)) &&
    now - row.lastSeenAt < SESSION_IDLE_MS &&
    now - row.createdAt < SESSION_MAX_MS;
  if (!live) {
    await d.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
    return null;
  }
  if (now - row.lastSeenAt >= TOUCH_MS) {
    await d
      .update(consoleSessions)
      .set({ lastSeenAt: now })
      .where(and(eq(consoleSessions.idHash, idHash), lt(consoleSessions.lastSeenAt, now)));
    row.lastSeenAt = now;
  }
  return { idHash, createdAt: row.createdAt, lastSeenAt: row.lastSeenAt };
}

/** Ends a session (logout); unknown or malformed ids are a no-op. */
export async function deleteSession(db: D1Database, id: string): Promise<void> {
  if (!SESSION_ID.test(id)) return;
  await drizzle(db)
    .delete(consoleSessions)
    .where(eq(consoleSessions.idHash, await sha256Hex(id)));
}
