// Error groups and their hourly occurrences (histogram, sparklines, release breakdown), computed
// in memory per batch and written once per group and per group × hour × release × environment,
// guarded by the message ledger (ledger-sql.ts) so a redelivered message counts nothing.

import { type SQL, sql } from "drizzle-orm";
import type { Hll } from "../../shared/hll";
import { hllMergeSql } from "../../shared/hll";
import { jsonChunks } from "../../shared/json-chunks";
import type { StoredRef } from "./d1-writes";
import { addUser, usersRow } from "./group-workflow";
import { guard, tally } from "./ledger-sql";

const HOUR = 3600_000;
const trim = (s: string | null | undefined, n: number) => (s == null ? null : s.slice(0, n));

interface GroupAgg {
  p: number;
  g: string;
  f: string;
  ver: number;
  type: string | null;
  msg: string;
  culprit: string | null;
  level: string;
  platform: string | null;
  first: number;
  last: number;
  lastId: string;
  release: string | null;
  /** [message id, events of this group in it] */
  m: [string, number][];
  /** The batch's affected users (group-workflow.ts), merged into the row's sketch. */
  users?: Hll;
  stored?: string | null;
}

/** Groups (one upsert row per group) and their occurrences per hour, release and environment. */
export function groupStatements(batchId: string, refs: StoredRef[]): SQL[] {
  const groups = new Map<string, GroupAgg>();
  const hours = new Map<
    string,
    { p: number; g: string; h: number; r: string; e: string; t: number; n: number }
  >();
  for (const { prepared: p, messageId } of refs) {
    if (!p.grouping || !p.event) continue;
    const t = Date.parse(p.event.occurredAt);
    const pid = Number(p.item.projectId);
    const gid = p.grouping.groupId;
    const key = `${pid}:${gid}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        p: pid,
        g: gid,
        f: p.grouping.fingerprint,
        ver: p.grouping.version,
        type: trim(p.event.type, 200),
        msg: (p.event.message || p.event.type || "(no message)").slice(0, 500),
        culprit: p.grouping.culprit,
        level: p.event.level,
        platform: p.event.platform,
        first: t,
        last: t,
        lastId: p.item.eventId,
        release: p.event.release,
        m: [[messageId, 1]],
      });
    } else {
      const last = g.m[g.m.length - 1]!;
      if (last[0] === messageId) last[1]++;
      else g.m.push([messageId, 1]);
      if (t < g.first) g.first = t;
      if (t >= g.last) {
        g.last = t;
        g.lastId = p.item.eventId;
        g.release = p.event.release;
        g.msg = (p.event.message || p.event.type || g.msg).slice(0, 500);
      }
    }
    const agg = groups.get(key)!;
    agg.users = addUser(agg.users, p.event);
    agg.stored ??= p.storedUsers;
    const h = Math.floor(t / HOUR) * HOUR;
    const r = trim(p.event.release, 200) ?? "";
    const e = trim(p.event.environment, 64) ?? "";
    const k = `${key}\u0000${h}\u0000${r}\u0000${e}`;
    tally(hours, k, messageId, { p: pid, g: gid, h, r, e, t });
    const row = hours.get(`${k}\u0000${messageId}`)!;
    if (t > row.t) row.t = t;
  }
  const out: SQL[] = [];
  // A resolved group that receives a new event is reopened (a regression; one resolved in a release
  // only by a later release: release-regression.ts); an ignored one keeps
  // its status but still counts. Times and last-event fields are max/min merges, so counting a
  // redelivered message's events in them changes nothing; only `count` needs the ledger.
  // A group merged after the batch looked up its redirects still sends its counts to the target.
  const target = (p: SQL, g: SQL) =>
    sql`coalesce((SELECT r.to_group FROM group_redirects r WHERE r.project_id = ${p} AND r.from_group = ${g}), ${g})`;
  const rows = [...groups.values()].map(({ users, stored, ...g }) => ({ ...g, ...usersRow(stored, users) }));
  for (const chunk of jsonChunks(rows))
    out.push(sql`INSERT INTO error_groups (project_id, id, fingerprint, grouping_version, type, message, culprit,
        level, platform, status, count, first_seen, last_seen, last_event_id, last_release, users)
      SELECT d.p, ${target(sql`d.p`, sql`d.g`)}, d.f, d.ver, d.type, d.msg, d.culprit, d.level, d.platform, 'active', d.n, d.first, d.last, d.lastId, d.release,
        CASE WHEN d.u IS NULL OR eg.users IS d.o THEN d.u ELSE ${hllMergeSql(sql`eg.users`, sql`d.u`)} END
      FROM (SELECT g.value->>'p' AS p, g.value->>'g' AS g, g.value->>'u' AS u, g.value->>'o' AS o, g.value->>'f' AS f, g.value->>'ver' AS ver,
              g.value->>'type' AS type, g.value->>'msg' AS msg, g.value->>'culprit' AS culprit, g.value->>'level' AS level,
              g.value->>'platform' AS platform, g.value->>'first' AS first, g.value->>'last' AS last,
              g.value->>'lastId' AS lastId, g.value->>'release' AS release,
              (SELECT coalesce(sum(i.value->>1), 0) FROM json_each(g.value->'m') i ${guard(batchId, sql`i.value->>0`)}) AS n
            FROM json_each(${chunk}) AS g) d
      LEFT JOIN error_groups eg ON eg.project_id = d.p AND eg.id = ${target(sql`d.p`, sql`d.g`)}
      WHERE d.n > 0
      ON CONFLICT (project_id, id) DO UPDATE SET
        count = count + excluded.count,
        first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen),
        last_event_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_event_id ELSE last_event_id END,
        last_release = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_release ELSE last_release END,
        message = CASE WHEN excluded.last_seen >= last_seen THEN excluded.message ELSE message END,
        users = coalesce(excluded.users, users),
        regressed_at = CASE WHEN status = 'resolved' AND resolved_release_key IS NULL THEN excluded.last_seen ELSE regressed_at END,
        status = CASE WHEN status = 'resolved' AND resolved_release_key IS NULL THEN 'active' ELSE status END`);
  for (const chunk of jsonChunks([...hours.values()]))
    out.push(sql`INSERT INTO group_hours (project_id, group_id, hour, release, environment, count, last_seen)
      SELECT d.value->>'p', ${target(sql`d.value->>'p'`, sql`d.value->>'g'`)}, d.value->>'h', d.value->>'r', d.value->>'e', sum(d.value->>'n'), max(d.value->>'t')
      FROM json_each(${chunk}) d ${guard(batchId, sql`d.value->>'mid'`)}
      WHERE true
      GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (project_id, group_id, hour, release, environment) DO UPDATE SET
        count = count + excluded.count, last_seen = max(last_seen, excluded.last_seen)`);
  return out;
}
