// The issue workflow's share of a processor batch (issue #14): events of merged groups land in the
// group they were merged into (group_redirects, looked up once per batch), each group's affected
// users are folded into one HyperLogLog sketch per batch (carried by the batch's group delta:
// group-writes.ts), the issue list's environment / release facets are recorded once per group and
// value, and user feedback is stored with the group of the event it is about.

import { type SQL, sql } from "drizzle-orm";
import { readRedirects } from "../../shared/db/group-fold";
import { shardDbs } from "../../shared/db/shards";
import type { CanonicalEvent } from "../../shared/event";
import { Hll } from "../../shared/hll";
import { jsonChunks } from "../../shared/json-chunks";
import { createSearchBackend, type SearchEnv } from "../../shared/search";
import type { StoredRef } from "./d1-writes";
import type { Prepared } from "./prepare";

const DAY = 86_400_000;
/**
 * Unlinked feedback the cron looks up per run, over all shards (each one event-index look-up: a D1
 * query with the embedded index). With a select and an update per shard, that bounds the relink's
 * share of the invocation's 1,000 D1 queries (retention.ts takes at most 700 of them).
 */
const RELINK_PER_RUN = 200;
/** Feedback whose event is not in the batch is resolved through the event index, this many at most. */
const MAX_FEEDBACK_LOOKUPS = 50;

/** Who an event affected: the user id, else email or username, else the client's IP; null if none. */
export function userKeyOf(event: CanonicalEvent): string | null {
  const u = event.user;
  const pick = (v: unknown) => (typeof v === "string" && v !== "" ? v.slice(0, 200) : null);
  const id = pick(u?.id) ?? pick(u?.email) ?? pick(u?.username);
  if (id) return `u:${id}`;
  const ip = pick(u?.ipAddress) ?? pick(event.client?.ip);
  return ip ? `ip:${ip}` : null;
}

/** Adds an event's user to a group's batch sketch (created on first use). */
export function addUser(sketch: Hll | undefined, event: CanonicalEvent): Hll | undefined {
  const key = userKeyOf(event);
  if (!key) return sketch;
  const s = sketch ?? new Hll();
  s.add(key);
  return s;
}

/**
 * Rewrites the group of every event (and feedback) whose group was merged into another. One D1
 * read per batch, by primary keys; a merge committed after it is caught by the group writes' and
 * the fold's own redirect look-up (group-writes.ts, shared/db/group-fold.ts), so counts never land
 * on a merged group.
 */
export async function applyRedirects(db: D1Database, prepared: Prepared[]): Promise<void> {
  const keys: [number, string][] = [];
  for (const p of prepared) {
    if (p.grouping) keys.push([Number(p.item.projectId), p.grouping.groupId]);
    if (p.feedback?.groupId) keys.push([Number(p.item.projectId), p.feedback.groupId]);
  }
  if (keys.length === 0) return;
  const target = await readRedirects(db, keys);
  for (const p of prepared) {
    const pid = Number(p.item.projectId);
    if (p.grouping) p.grouping.groupId = target(pid, p.grouping.groupId);
    if (p.feedback?.groupId) p.feedback.groupId = target(pid, p.feedback.groupId);
  }
}

/**
 * Finds the group of the event each feedback is about: from this batch when the event came with
 * it, else from the event index (bounded per batch). A feedback whose event is not indexed yet, or
 * when the index is down, keeps a null group and still shows on its event.
 */
export async function resolveFeedbackGroups(env: SearchEnv, prepared: Prepared[]): Promise<void> {
  const pending = prepared.filter((p) => p.feedback?.eventId && !p.feedback.groupId);
  if (pending.length === 0) return;
  const inBatch = new Map<string, string>();
  for (const p of prepared)
    if (p.grouping) inBatch.set(`${p.item.projectId}:${p.item.eventId}`, p.grouping.groupId);
  const lookups: Prepared[] = [];
  for (const p of pending) {
    const g = inBatch.get(`${p.item.projectId}:${p.feedback!.eventId}`);
    if (g) p.feedback!.groupId = g;
    else if (lookups.length < MAX_FEEDBACK_LOOKUPS) lookups.push(p);
  }
  if (lookups.length === 0) return;
  const backend = createSearchBackend(env);
  await Promise.all(
    lookups.map(async (p) => {
      try {
        const hit = await backend.get(String(p.item.projectId), p.feedback!.eventId!);
        if (hit?.groupId) p.feedback!.groupId = hit.groupId;
      } catch (err) {
        console.warn(JSON.stringify({ msg: "feedback group look-up failed", error: String(err) }));
      }
    }),
  );
}

/**
 * The issue list's facets: one row per group and environment / release, inserted once; later
 * batches touch it at most once a day (its day-coarse last_seen drives retention), so steady
 * traffic writes no facet rows. Idempotent without the ledger: nothing in it counts.
 */
export function facetStatements(refs: StoredRef[]): SQL[] {
  const rows = new Map<string, { p: number; f: string; v: string; g: string; t: number }>();
  for (const { prepared: p } of refs) {
    if (!p.grouping || !p.event) continue;
    const t = Math.floor(Date.parse(p.event.occurredAt) / DAY) * DAY;
    const pid = Number(p.item.projectId);
    for (const [f, v] of [
      ["environment", p.event.environment?.slice(0, 64)],
      ["release", p.event.release?.slice(0, 200)],
    ] as const) {
      if (!v) continue;
      const k = `${pid}\u0000${f}\u0000${v}\u0000${p.grouping.groupId}`;
      const cur = rows.get(k);
      if (!cur) rows.set(k, { p: pid, f, v, g: p.grouping.groupId, t });
      else if (t > cur.t) cur.t = t;
    }
  }
  return jsonChunks([...rows.values()]).map(
    (chunk) => sql`INSERT INTO group_facets (project_id, facet, value, group_id, last_seen)
      SELECT d.value->>'p', d.value->>'f', d.value->>'v',
        coalesce((SELECT r.to_group FROM group_redirects r WHERE r.project_id = d.value->>'p' AND r.from_group = d.value->>'g'), d.value->>'g'),
        d.value->>'t'
      FROM json_each(${chunk}) d WHERE true
      ON CONFLICT (project_id, facet, value, group_id) DO UPDATE SET last_seen = excluded.last_seen
      WHERE excluded.last_seen > last_seen`,
  );
}

/**
 * Feedback rows, idempotent by (project, feedback id); a later copy may fill in a missing group.
 * Feedback that came before its event gets the event's group when the event is written (one index
 * probe per event, named: SQLite would rather walk the project's key range; no row written unless
 * one matches). Feedback processed after its event's D1
 * write but before its indexing stays on its event only.
 */
export function feedbackStatements(refs: StoredRef[]): SQL[] {
  const rows = refs
    .filter(({ prepared: p }) => p.feedback)
    .map(({ prepared: p }) => ({
      p: Number(p.item.projectId),
      at: p.item.receivedAt,
      ...p.feedback!,
      id: p.feedback!.id ?? p.item.eventId,
    }));
  // Per project and group, its events' ids: [project, group, [event id, ...]] (every event of the
  // batch is probed, so each is named once, not with its project and group again). The pairs are
  // MATERIALIZED first: flattened into the UPDATE, SQLite (without statistics, as on D1) put
  // user_feedback between the two json_each and probed the index by project alone, reading every
  // feedback row of the project once per group (group-workflow.test.ts checks the plan).
  const byGroup = new Map<string, [number, string, string[]]>();
  for (const { prepared: p } of refs) {
    if (!p.grouping) continue;
    const k = `${p.item.projectId}\u0000${p.grouping.groupId}`;
    const row = byGroup.get(k);
    if (row) row[2].push(p.item.eventId);
    else byGroup.set(k, [Number(p.item.projectId), p.grouping.groupId, [p.item.eventId]]);
  }
  const linked = jsonChunks([...byGroup.values()]).map(
    (chunk) => sql`WITH x AS MATERIALIZED (
        SELECT j.value->>0 AS p, j.value->>1 AS g, e.value AS e FROM json_each(${chunk}) j, json_each(j.value->2) e)
      UPDATE user_feedback INDEXED BY user_feedback_event SET group_id = x.g FROM x
      WHERE user_feedback.project_id = x.p AND user_feedback.event_id = x.e AND user_feedback.group_id IS NULL`,
  );
  return linked.concat(
    jsonChunks(rows).map(
      (
        chunk,
      ) => sql`INSERT INTO user_feedback (project_id, id, event_id, group_id, name, email, message, url, source, created_at)
      SELECT d.value->>'p', d.value->>'id', d.value->>'eventId', d.value->>'groupId', d.value->>'name', d.value->>'email',
        d.value->>'message', d.value->>'url', d.value->>'source', d.value->>'at'
      FROM json_each(${chunk}) d WHERE true
      ON CONFLICT (project_id, id) DO UPDATE SET group_id = excluded.group_id
      WHERE group_id IS NULL AND excluded.group_id IS NOT NULL`,
    ),
  );
}

/**
 * The cron's catch-up (every 30 minutes): feedback processed after its event's D1 write but before
 * its indexing found no group; look its event up again for a day. Returns how many were linked.
 */
export async function relinkFeedback(env: SearchEnv, now = Date.now()): Promise<number> {
  let linked = 0;
  const dbs = shardDbs(env);
  const perShard = Math.ceil(RELINK_PER_RUN / dbs.length);
  for (const db of dbs) linked += await relinkOnShard(env, db, now, perShard);
  return linked;
}

async function relinkOnShard(env: SearchEnv, db: D1Database, now: number, limit: number): Promise<number> {
  const rows = (
    await db
      .prepare(
        `SELECT project_id AS p, id, event_id AS e FROM user_feedback INDEXED BY user_feedback_unlinked
       WHERE group_id IS NULL AND event_id IS NOT NULL AND created_at > ? ORDER BY created_at LIMIT ?`,
      )
      .bind(now - DAY, limit)
      .all<{ p: number; id: string; e: string }>()
  ).results;
  if (rows.length === 0) return 0;
  const backend = createSearchBackend(env);
  const found = await Promise.all(
    rows.map(async (r) => ({
      ...r,
      g: (await backend.get(String(r.p), r.e).catch(() => null))?.groupId ?? null,
    })),
  );
  const links = found.filter((r) => r.g);
  if (links.length === 0) return 0;
  // The event's group may have been merged since it was indexed.
  await db
    .prepare(
      `UPDATE user_feedback SET group_id = coalesce((SELECT r.to_group FROM group_redirects r
       WHERE r.project_id = j.value->>'p' AND r.from_group = j.value->>'g'), j.value->>'g')
     FROM json_each(?) j WHERE user_feedback.project_id = j.value->>'p' AND user_feedback.id = j.value->>'id'
       AND user_feedback.group_id IS NULL`,
    )
    .bind(JSON.stringify(links))
    .run();
  return links.length;
}
