// Alert decisions of a processor batch (DESIGN: "alert decisions → alerts queue"):
//
//   before the D1 batch: enabled rules of the batch's projects (one read of the control DB)
//        └─ spike/frequency rules: per-minute group counts, written in the batch's transaction
//           (ledger-guarded like every aggregate) and pruned after two hours
//   after it commits:    the touched groups' state, their recent counts ─▶ trigger decisions
//        ─▶ cooldown claim (alert_state, one statement) ─▶ sluice-alerts (workers/alerter)
//
// Projects without rules cost one indexed read per batch and nothing else. Decisions read only
// what the batch committed, so a retried batch decides the same alerts and the cooldown makes
// them one; if the queue send fails, the claims are released and the batch retries.

import { type SQL, sql } from "drizzle-orm";
import type { AlertMessage } from "../../shared/alerts/message";
import type { Trigger } from "../../shared/alerts/rules";
import {
  type BatchShare,
  firedTriggers,
  type GroupState,
  lookback,
  needsMinutes,
} from "../../shared/alerts/triggers";
import { foldIfPending } from "../../shared/db/group-fold";
import { newEventId } from "../../shared/ids";
import { jsonChunks } from "../../shared/json-chunks";
import { claim, loadGroups, loadRates, type Rule, release } from "./alert-reads";
import type { StoredRef } from "./d1-writes";
import { admitted, guard, type LedgerScope } from "./ledger-sql";

/** Where the hook reads and writes: rules are project configuration, the rest sits with groups. */
export interface AlertStores {
  /** The enabled rules of the batch's projects (alert-reads.ts loadRules, read once per batch). */
  rules: Rule[];
  /** The database the batch's groups are written to: error_groups, group_hours, group_minutes, alert_state. */
  groups: D1Database;
  /** sluice-alerts; absent in tools that run the processor without alerting: no alerts decided. */
  queue: Queue | undefined;
}

interface Share extends BatchShare {
  projectId: number;
  groupId: string;
  receivedAt: number;
  event: NonNullable<AlertMessage["event"]>;
  latest: number;
}

export interface AlertPlan {
  /** Statements for the batch's D1 transaction (per-minute counts). */
  statements: SQL[];
  /** Decides and enqueues the alerts; call once the D1 batch has committed. Returns how many. */
  send(): Promise<number>;
}

const MINUTE = 60_000;
const KEEP_MINUTES_MS = 2 * 3_600_000;
const NONE: AlertPlan = { statements: [], send: async () => 0 };

function sharesOf(refs: StoredRef[]): Map<string, Share> {
  const shares = new Map<string, Share>();
  for (const { prepared: p } of refs) {
    if (!p.grouping || !p.event) continue;
    const projectId = Number(p.item.projectId);
    const key = `${projectId}:${p.grouping.groupId}`;
    const t = Date.parse(p.event.occurredAt);
    const event = {
      id: p.item.eventId,
      occurredAt: p.event.occurredAt,
      release: p.event.release,
      environment: p.event.environment,
    };
    const s = shares.get(key);
    if (!s) {
      shares.set(key, {
        projectId,
        groupId: p.grouping.groupId,
        events: 1,
        minTime: t,
        maxTime: t,
        latest: t,
        receivedAt: p.item.receivedAt,
        environments: new Set(p.event.environment ? [p.event.environment] : []),
        event,
      });
      continue;
    }
    s.events++;
    s.minTime = Math.min(s.minTime, t);
    s.maxTime = Math.max(s.maxTime, t);
    s.receivedAt = Math.max(s.receivedAt, p.item.receivedAt);
    if (p.event.environment) (s.environments as Set<string>).add(p.event.environment);
    if (t >= s.latest) {
      s.latest = t;
      s.event = event;
    }
  }
  return shares;
}

/** Per-minute counts (by received time) of the groups in projects with minute-based rules. */
function minuteStatements(scope: LedgerScope, refs: StoredRef[], projects: Set<number>, now: number): SQL[] {
  const rows = new Map<string, { p: number; g: string; m: number; mid: string; n: number }>();
  for (const { prepared: p, messageId } of admitted(scope, refs)) {
    if (!p.grouping || !p.event || !projects.has(Number(p.item.projectId))) continue;
    const m = Math.floor(p.item.receivedAt / MINUTE) * MINUTE;
    const key = `${p.item.projectId}\u0000${p.grouping.groupId}\u0000${m}\u0000${messageId}`;
    const row = rows.get(key);
    if (row) row.n++;
    else rows.set(key, { p: Number(p.item.projectId), g: p.grouping.groupId, m, mid: messageId, n: 1 });
  }
  if (rows.size === 0) return [];
  const out: SQL[] = [];
  for (const chunk of jsonChunks([...rows.values()]))
    out.push(sql`INSERT INTO group_minutes (project_id, group_id, minute, count)
      SELECT d.value->>'p', d.value->>'g', d.value->>'m', sum(d.value->>'n')
      FROM json_each(${chunk}) d
      WHERE ${guard(scope, sql`d.value->>'mid'`)}
      GROUP BY 1, 2, 3
      ON CONFLICT (project_id, group_id, minute) DO UPDATE SET count = count + excluded.count`);
  // Older minutes of the same groups go: spike and frequency look back at most an hour.
  const groups = [...new Set([...rows.values()].map((r) => JSON.stringify([r.p, r.g])))].map((s) =>
    JSON.parse(s),
  );
  for (const chunk of jsonChunks(groups))
    out.push(sql`DELETE FROM group_minutes WHERE (project_id, group_id, minute) IN (
      SELECT gm.project_id, gm.group_id, gm.minute FROM json_each(${chunk}) d
      CROSS JOIN group_minutes gm ON gm.project_id = d.value->>0 AND gm.group_id = d.value->>1
        AND gm.minute < ${now - KEEP_MINUTES_MS})`);
  return out;
}

interface Candidate {
  rule: Rule;
  share: Share;
  group: GroupState;
  trigger: Trigger;
}

function toMessage(c: Candidate, now: number): AlertMessage {
  return {
    v: 1,
    deliveryId: newEventId(now),
    ruleId: c.rule.id,
    projectId: c.rule.projectId,
    trigger: c.trigger,
    decidedAt: now,
    group: {
      id: c.group.id,
      type: c.group.type,
      message: c.group.message,
      level: c.group.level,
      count: c.group.count,
      firstSeen: c.group.firstSeen,
      lastSeen: c.group.lastSeen,
      status: c.group.status,
    },
    event: c.share.event,
  };
}

/** Reads the batch's rules and returns what to write with the batch and what to do after it. */
export async function planAlerts(
  stores: AlertStores,
  scope: LedgerScope,
  refs: StoredRef[],
  now: number,
): Promise<AlertPlan> {
  const { queue } = stores;
  if (!queue) return NONE;
  const shares = sharesOf(refs);
  if (shares.size === 0) return NONE;
  const projectIds = new Set([...shares.values()].map((s) => s.projectId));
  const rules = stores.rules.filter((r) => projectIds.has(r.projectId));
  if (rules.length === 0) return NONE;
  const rulesOf = new Map<number, Rule[]>();
  for (const r of rules) rulesOf.set(r.projectId, [...(rulesOf.get(r.projectId) ?? []), r]);
  const minuteProjects = new Set(rules.filter(needsMinutes).map((r) => r.projectId));
  return {
    statements: minuteStatements(scope, refs, minuteProjects, now),
    async send() {
      const mine = [...shares.values()].filter((s) => rulesOf.has(s.projectId));
      const keys = mine.map((s): [number, string] => [s.projectId, s.groupId]);
      // Decisions read the groups' counts and hours: fold the shard's pending deltas first.
      await foldIfPending(stores.groups);
      const groups = await loadGroups(stores.groups, keys);
      const rateKeys = mine.filter(
        (s) =>
          minuteProjects.has(s.projectId) ||
          rulesOf.get(s.projectId)!.some((r) => r.triggers.includes("frequency")),
      );
      const rates = await loadRates(
        stores.groups,
        rateKeys.map((s): [number, string] => [s.projectId, s.groupId]),
        now,
        lookback(rules),
      );
      const candidates: Candidate[] = [];
      for (const share of mine) {
        const group = groups.get(`${share.projectId}:${share.groupId}`);
        if (!group) continue;
        const r = rates.get(`${share.projectId}:${share.groupId}`) ?? {
          minutes: new Map(),
          hours: new Map(),
        };
        for (const rule of rulesOf.get(share.projectId)!)
          for (const trigger of firedTriggers(rule, group, share, r, share.receivedAt))
            candidates.push({ rule, share, group, trigger });
      }
      if (candidates.length === 0) return 0;
      const won = await claim(stores.groups, candidates, now);
      if (won.length === 0) return 0;
      try {
        const bodies = won.map((c) => ({
          body: JSON.stringify(toMessage(c, now)),
          contentType: "text" as const,
        }));
        for (let i = 0; i < bodies.length; i += 100) await queue.sendBatch(bodies.slice(i, i + 100));
      } catch (err) {
        // Released, so the batch's retry claims and sends them again.
        await release(stores.groups, won).catch((e) =>
          console.error(JSON.stringify({ msg: "alert claims not released", error: String(e) })),
        );
        throw err;
      }
      return won.length;
    },
  };
}
