// The alert hook's D1 reads and its cooldown claim (alerts-hook.ts): enabled rules of a batch's
// projects (control database), the touched groups' state and recent counts (where groups are
// written), and alert_state. Each statement joins the batch's JSON rows to a primary key
// (alert-query-plans.test.ts), so what it reads grows with the batch, never with the project.

import type { AlertRuleConfig, Trigger } from "../../shared/alerts/rules";
import { parseConfig } from "../../shared/alerts/rules";
import type { GroupState, Rates } from "../../shared/alerts/triggers";
import { jsonChunks } from "../../shared/json-chunks";

const MINUTE = 60_000;
/** new_issue alerts once per group: its quiet time never ends. */
const FOREVER = 8_640_000_000_000_000;

export interface Rule extends AlertRuleConfig {
  id: string;
  projectId: number;
  cooldownMinutes: number;
}

export async function loadRules(db: D1Database, projectIds: number[]): Promise<Rule[]> {
  const rows = await db
    .prepare(
      `SELECT r.project_id, r.id, r.config, r.cooldown_minutes FROM json_each(?) p
       CROSS JOIN alert_rules r ON r.project_id = p.value WHERE r.enabled = 1`,
    )
    .bind(JSON.stringify(projectIds))
    .all<{ project_id: number; id: string; config: string; cooldown_minutes: number }>();
  return rows.results.map((r) => ({
    ...parseConfig(r.config),
    id: r.id,
    projectId: r.project_id,
    cooldownMinutes: r.cooldown_minutes,
  }));
}

interface StateRow {
  project_id: number;
  id: string;
  type: string | null;
  message: string;
  level: string;
  status: string;
  count: number;
  first_seen: number;
  last_seen: number;
  regressed_at: number | null;
}

export async function loadGroups(db: D1Database, keys: [number, string][]): Promise<Map<string, GroupState>> {
  const out = new Map<string, GroupState>();
  for (const chunk of jsonChunks(keys)) {
    const rows = await db
      .prepare(
        `SELECT g.project_id, g.id, g.type, g.message, g.level, g.status, g.count, g.first_seen, g.last_seen,
           g.regressed_at
         FROM json_each(?) d CROSS JOIN error_groups g ON g.project_id = d.value->>0 AND g.id = d.value->>1`,
      )
      .bind(chunk)
      .all<StateRow>();
    for (const r of rows.results)
      out.set(`${r.project_id}:${r.id}`, {
        id: r.id,
        type: r.type,
        message: r.message,
        level: r.level,
        status: r.status,
        count: r.count,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
        regressedAt: r.regressed_at,
      });
  }
  return out;
}

export async function loadRates(
  db: D1Database,
  keys: [number, string][],
  now: number,
  back: { minutes: number; hours: number },
): Promise<Map<string, Rates>> {
  const out = new Map<string, Rates>();
  const rates = (key: string) => {
    let r = out.get(key);
    if (!r) out.set(key, (r = { minutes: new Map(), hours: new Map() }));
    return r;
  };
  for (const chunk of jsonChunks(keys)) {
    if (back.minutes > 0) {
      const rows = await db
        .prepare(
          `SELECT gm.project_id AS p, gm.group_id AS g, gm.minute AS t, gm.count AS n FROM json_each(?) d
           CROSS JOIN group_minutes gm ON gm.project_id = d.value->>0 AND gm.group_id = d.value->>1 AND gm.minute >= ?`,
        )
        .bind(chunk, now - back.minutes)
        .all<{ p: number; g: string; t: number; n: number }>();
      for (const r of rows.results) (rates(`${r.p}:${r.g}`).minutes as Map<number, number>).set(r.t, r.n);
    }
    if (back.hours > 0) {
      const rows = await db
        .prepare(
          `SELECT gh.project_id AS p, gh.group_id AS g, gh.hour AS t, sum(gh.count) AS n FROM json_each(?) d
           CROSS JOIN group_hours gh ON gh.project_id = d.value->>0 AND gh.group_id = d.value->>1 AND gh.hour >= ?
           GROUP BY 1, 2, 3`,
        )
        .bind(chunk, now - back.hours)
        .all<{ p: number; g: string; t: number; n: number }>();
      for (const r of rows.results) (rates(`${r.p}:${r.g}`).hours as Map<number, number>).set(r.t, r.n);
    }
  }
  return out;
}

/** A decided alert: the rule, the group and the trigger (the cooldown's key). */
export interface Claimable {
  rule: { id: string; cooldownMinutes: number };
  group: { id: string };
  trigger: Trigger;
}

/** Claims each candidate's cooldown in one statement; returns those that were not cooling down. */
export async function claim<C extends Claimable>(db: D1Database, candidates: C[], now: number): Promise<C[]> {
  const byKey = new Map(candidates.map((c) => [`${c.rule.id}\u0000${c.group.id}\u0000${c.trigger}`, c]));
  const rows = candidates.map((c) => [
    c.rule.id,
    c.group.id,
    c.trigger,
    c.trigger === "new_issue" ? FOREVER : now + c.rule.cooldownMinutes * MINUTE,
  ]);
  const won: C[] = [];
  for (const chunk of jsonChunks(rows)) {
    const res = await db
      .prepare(
        `INSERT INTO alert_state (rule_id, group_id, trigger, quiet_until)
         SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?) WHERE true
         ON CONFLICT (rule_id, group_id, trigger) DO UPDATE SET quiet_until = excluded.quiet_until
           WHERE alert_state.quiet_until <= ?
         RETURNING rule_id, group_id, trigger`,
      )
      .bind(chunk, now)
      .all<{ rule_id: string; group_id: string; trigger: string }>();
    for (const r of res.results) {
      const c = byKey.get(`${r.rule_id}\u0000${r.group_id}\u0000${r.trigger}`);
      if (c) won.push(c);
    }
  }
  return won;
}

export async function release(db: D1Database, won: Claimable[]): Promise<void> {
  const keys = won.map((c) => [c.rule.id, c.group.id, c.trigger]);
  for (const chunk of jsonChunks(keys))
    await db
      .prepare(
        `DELETE FROM alert_state WHERE (rule_id, group_id, trigger) IN
           (SELECT value->>0, value->>1, value->>2 FROM json_each(?))`,
      )
      .bind(chunk)
      .run();
}
