// A batch's share of its error groups, in the batch's transaction and guarded by the message
// ledger (ledger-sql.ts) so a redelivered message counts nothing:
//   - a group seen for the first time gets its row at once (no row written for known groups), so
//     new-issue alerts and the issue list see it now, with count 0 until the next fold;
//   - a resolved group is reopened at once (a regression), a row written only when that happens:
//     a plainly resolved group by any event, one resolved "in the next release" (PATCH
//     .../groups/:groupId {"status":"resolved","resolvedInRelease"}) only by an event of a later
//     release (shared/alerts/release-order.ts); both in one statement over a slim copy of the
//     batch's groups (what a reopen reads: ids, last time, messages and their latest release);
//   - everything that merely adds up (counts, first/last seen, last event, affected users, the
//     hourly occurrences) goes into ONE group_deltas row per batch, folded into error_groups and
//     group_hours in bulk (shared/groups/fold.ts). A hot group is then written once per fold, not
//     once per batch: the difference between ~0.5 and ~0.01 D1 rows per event.

import { type SQL, sql } from "drizzle-orm";
import { releaseKey } from "../../shared/alerts/release-order";
import { insertGroupRows, redirectTarget } from "../../shared/db/group-fold";
import { type Hll, sparseRegisters } from "../../shared/hll";
import { jsonChunks } from "../../shared/json-chunks";
import type { StoredRef } from "./d1-writes";
import { addUser } from "./group-workflow";
import { guard, type LedgerScope, tally } from "./ledger-sql";

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
  /**
   * Per message (as `m`): the latest release key among the group's events in it that name a
   * release, and the latest such event's time (reopening a group resolved in a release).
   */
  rel?: Map<string, { k: string; t: number }>;
  /** The batch's affected users (group-workflow.ts); travels as its non-zero registers. */
  users?: Hll;
}

/** The batch's group rows and hourly occurrence rows (per message, for the ledger guard). */
function aggregate(refs: StoredRef[]) {
  const groups = new Map<string, GroupAgg>();
  const hours = new Map<
    string,
    { p: number; g: string; h: number; r: string; e: string; t: number; n: number; mid?: string }
  >();
  // Release keys per distinct release: a batch names few releases, over many events.
  const releaseKeys = new Map<string, string>();
  const keyOf = (release: string) => {
    let k = releaseKeys.get(release);
    if (k === undefined) releaseKeys.set(release, (k = releaseKey(release.slice(0, 200))));
    return k;
  };
  for (const { prepared: p, messageId } of refs) {
    if (!p.grouping || !p.event) continue;
    const t = Date.parse(p.event.occurredAt);
    const pid = Number(p.item.projectId);
    const gid = p.grouping.groupId;
    const key = `${pid}:${gid}`;
    let g = groups.get(key);
    if (!g) {
      g = {
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
      };
      groups.set(key, g);
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
    g.users = addUser(g.users, p.event);
    if (p.event.release) {
      const k = keyOf(p.event.release);
      g.rel ??= new Map();
      const r = g.rel.get(messageId);
      if (!r) g.rel.set(messageId, { k, t });
      else {
        if (k > r.k) r.k = k;
        if (t > r.t) r.t = t;
      }
    }
    const h = Math.floor(t / HOUR) * HOUR;
    const r = trim(p.event.release, 200) ?? "";
    const e = trim(p.event.environment, 64) ?? "";
    const k = `${key}\u0000${h}\u0000${r}\u0000${e}`;
    const row = tally(hours, k, messageId, { p: pid, g: gid, h, r, e, t });
    if (t > row.t) row.t = t;
  }
  const groupRows = [...groups.values()].map(({ users, rel, ...g }) => ({
    ...g,
    uu: users ? sparseRegisters(users) : null,
  }));
  // What a reopen reads, as arrays: [project, group, last, [[message, events, release key, time]]].
  const reopenRows = [...groups.values()].map((g) => [
    g.p,
    g.g,
    g.last,
    g.m.map(([mid, n]) => {
      const r = g.rel?.get(mid);
      return r ? [mid, n, r.k, r.t] : [mid, n];
    }),
  ]);
  // What the deltas carry of a group: the fold's fields and the messages the ledger guards, and the
  // group's identity (fingerprint, type, culprit, ...) so that a fold finding no row for the group
  // on this shard writes it whole: a project move can take the row away between this batch's
  // transaction and the fold, and retention can delete a dormant group in that gap.
  const deltaRows = groupRows;
  // Hourly rows as arrays: [project, group, hour, release, environment, last time, events, message].
  const hourRows = [...hours.values()].map((x) => [x.p, x.g, x.h, x.r, x.e, x.t, x.n, x.mid]);
  return { groupRows, reopenRows, deltaRows, hourRows };
}

/**
 * The batch's group statements (see the header); the delta insert returns the shard's backlog.
 * `refs`: the items of the messages `scope` admits (ledger-sql.ts `admitted`).
 */
export function groupStatements(scope: LedgerScope, now: number, refs: StoredRef[]): SQL[] {
  const { batchId } = scope;
  const { groupRows, reopenRows, deltaRows, hourRows } = aggregate(refs);
  if (groupRows.length === 0) return [];
  const out: SQL[] = [];
  // An aggregate over a group's per-message entries `m` ([message id, events, …]) that this batch's
  // ledger rows admit: the events they add, the latest release they name (null: none named one).
  const overAdmitted = (agg: string, m: SQL) =>
    sql`(SELECT ${sql.raw(agg)} FROM json_each(${m}) i WHERE ${guard(scope, sql`i.value->>0`)})`;
  const counted = (m: SQL) => overAdmitted("coalesce(sum(i.value->>1), 0)", m);
  const admittedRelease = (m: SQL) => overAdmitted("max(i.value->>2)", m);
  const groupChunks = jsonChunks(groupRows);
  for (const chunk of groupChunks) {
    // New groups: inserted with count 0 (their counts arrive with the fold); a known group, or
    // one merged into another (the redirect target is known), writes nothing here.
    out.push(insertGroupRows(chunk, sql`d.n > 0`, sql`, ${counted(sql`g.value->'m'`)} AS n`));
  }
  for (const chunk of jsonChunks(reopenRows)) {
    // A resolved group that receives a new event is reopened: a plainly resolved one by any event
    // (regressed at the batch's last event of it), one resolved in a release only by an event of a
    // later release (regressed at the latest such event); an ignored one keeps its status. Reads
    // groups by primary key; writes only the groups that reopen.
    out.push(sql`UPDATE error_groups SET status = 'active',
        regressed_at = CASE WHEN error_groups.resolved_release_key IS NULL THEN d.last ELSE d.rt END,
        resolved_in_release = NULL, resolved_release_key = NULL
      FROM (SELECT g.value->>0 AS p, ${redirectTarget(sql`g.value->>0`, sql`g.value->>1`)} AS t,
              g.value->>2 AS last, ${counted(sql`g.value->3`)} AS n, ${admittedRelease(sql`g.value->3`)} AS k,
              (SELECT max(i.value->>3) FROM json_each(g.value->3) i) AS rt
            FROM json_each(${chunk}) AS g) d
      WHERE error_groups.project_id = d.p AND error_groups.id = d.t AND d.n > 0
        AND error_groups.status = 'resolved'
        AND (error_groups.resolved_release_key IS NULL OR d.k > error_groups.resolved_release_key)`);
  }
  // The deltas: one row per chunk pair, holding only what this transaction's ledger rows admit.
  const deltaChunks = jsonChunks(deltaRows);
  const hourChunks = jsonChunks(hourRows);
  for (let i = 0; i < Math.max(deltaChunks.length, hourChunks.length); i++) {
    const groups = deltaChunks[i] ?? "[]";
    const hours = hourChunks[i] ?? "[]";
    out.push(sql`INSERT INTO group_deltas (batch_id, created_at, groups, hours)
      SELECT ${batchId}, ${now}, x.gs, x.hs FROM (SELECT
        (SELECT json_group_array(json(y.v)) FROM (
          SELECT json_remove(json_set(g.value, '$.n', ${counted(sql`g.value->'m'`)}), '$.m') AS v
          FROM json_each(${groups}) AS g) y WHERE y.v->>'n' > 0) AS gs,
        (SELECT json_group_array(json_array(d.value->>0, d.value->>1, d.value->>2, d.value->>3, d.value->>4,
            d.value->>6, d.value->>5))
          FROM json_each(${hours}) d WHERE ${guard(scope, sql`d.value->>7`)}) AS hs) x
      WHERE x.gs <> '[]' OR x.hs <> '[]'
      RETURNING id AS deltaId, (SELECT count(*) FROM group_deltas) AS pendingDeltas,
        (SELECT min(created_at) FROM group_deltas) AS oldestDelta`);
  }
  return out;
}
