// The session store against local D1: ids are random and stored hashed, sessions end on idle time,
// total age, logout and a changed admin token, last use is written sparingly, and the table is capped.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createSession,
  deleteSession,
  findSession,
  MAX_SESSIONS,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
} from "./sessions";

const T = "session-test-token";
const count = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM console_sessions").first<{ n: number }>())!.n;

describe("sessions", () => {
  beforeEach(async () => {
    await env.DB.prepare("DELETE FROM console_sessions").run();
  });

  it("finds a live session and refuses unknown, malformed, and other-token ids", async () => {
    const now = 10_000_000_000;
    const id = await createSession(env.DB, T, now);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await findSession(env.DB, id, T, now + 1)).not.toBeNull();
    expect(await findSession(env.DB, "0".repeat(64), T, now)).toBeNull();
    expect(await findSession(env.DB, `${id}x`, T, now)).toBeNull();
    expect(await findSession(env.DB, "'; DROP TABLE console_sessions; --", T, now)).toBeNull();
    expect(await findSession(env.DB, id, `${T}2`, now)).toBeNull();
    // The refused token change deleted it: it is gone under the old token too.
    expect(await findSession(env.DB, id, T, now)).toBeNull();
  });

  it("ends a session after the idle time, slides the idle clock on use, and ends it at the maximum age", async () => {
    const t0 = 20_000_000_000;
    const a = await createSession(env.DB, T, t0);
    expect(await findSession(env.DB, a, T, t0 + SESSION_IDLE_MS - 1)).not.toBeNull();
    expect(await findSession(env.DB, a, T, t0 + 2 * SESSION_IDLE_MS - 2)).not.toBeNull();
    expect(await findSession(env.DB, a, T, t0 + 3 * SESSION_IDLE_MS)).toBeNull();

    const b = await createSession(env.DB, T, t0);
    for (let t = t0; t < t0 + SESSION_MAX_MS; t += SESSION_IDLE_MS / 2)
      expect(await findSession(env.DB, b, T, t)).not.toBeNull();
    expect(await findSession(env.DB, b, T, t0 + SESSION_MAX_MS)).toBeNull();
  });

  it("writes last use at most every few minutes", async () => {
    const t0 = 30_000_000_000;
    const id = await createSession(env.DB, T, t0);
    const seen = async () =>
      (await env.DB.prepare("SELECT last_seen_at AS t FROM console_sessions").first<{ t: number }>())!.t;
    await findSession(env.DB, id, T, t0 + 60_000);
    expect(await seen()).toBe(t0);
    await findSession(env.DB, id, T, t0 + 10 * 60_000);
    expect(await seen()).toBe(t0 + 10 * 60_000);
  });

  it("logout deletes the session", async () => {
    const id = await createSession(env.DB, T);
    await deleteSession(env.DB, id);
    expect(await findSession(env.DB, id, T)).toBeNull();
    expect(await count()).toBe(0);
  });

  it("a login prunes ended sessions and keeps at most MAX_SESSIONS, dropping the oldest", async () => {
    const t0 = 40_000_000_000;
    const stale = await createSession(env.DB, `${T}-old`, t0);
    const first = await createSession(env.DB, T, t0 + 1);
    for (let i = 2; i <= MAX_SESSIONS + 5; i++) await createSession(env.DB, T, t0 + i);
    expect(await count()).toBe(MAX_SESSIONS);
    expect(await findSession(env.DB, first, T, t0 + 1000)).toBeNull();
    expect(await findSession(env.DB, stale, `${T}-old`, t0 + 1000)).toBeNull();
  });
});
