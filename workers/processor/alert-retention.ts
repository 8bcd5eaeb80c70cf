// Retention of what alerting writes (called per project, or per page of projects, by retention.ts):
// the delivery log after the project's retention, per-minute counts once spike and frequency no
// longer look at them, and cooldowns that have ended or whose group is gone (so a group that comes
// back is new again). Every statement walks a primary-key prefix (rule id, or project id), never a
// whole table.

import { timeHex } from "../../shared/ids";

const MINUTES_KEPT_MS = 2 * 3_600_000;
const RULE_IDS = "SELECT value FROM json_each(?3)";

/** The alert rule ids of each of `projectIds` (control database), in one query. */
export async function alertRulesOf(
  control: D1Database,
  projectIds: number[],
): Promise<Map<number, string[]>> {
  const rules = new Map<number, string[]>();
  if (projectIds.length === 0) return rules;
  const { results } = await control
    .prepare(
      "SELECT r.project_id AS p, r.id FROM json_each(?) AS c JOIN alert_rules AS r ON r.project_id = c.value",
    )
    .bind(JSON.stringify(projectIds))
    .all<{ p: number; id: string }>();
  for (const r of results) rules.set(r.p, [...(rules.get(r.p) ?? []), r.id]);
  return rules;
}

/** The delete of a project's deliveries older than `cutoff` (control database); null without rules. */
export function alertDeliveryDelete(
  control: D1Database,
  projectId: number,
  rules: string[],
  cutoff: number,
): D1PreparedStatement | null {
  if (rules.length === 0) return null;
  // Delivery ids start with their time in hex (shared/ids.ts), so "older than" is a key range.
  return control
    .prepare(`DELETE FROM alert_deliveries WHERE rule_id IN (${RULE_IDS}) AND id < ?2`)
    .bind(projectId, timeHex(cutoff), JSON.stringify(rules));
}

/**
 * The project's deletes on its metadata shard (minute counts, cooldowns), for a batch: after the
 * batch's error_groups delete, cooldowns of the groups it removed go in the same transaction.
 */
export function alertShardDeletes(
  groups: D1Database,
  projectId: number,
  rules: string[],
  now: number,
): D1PreparedStatement[] {
  return [
    groups
      .prepare("DELETE FROM group_minutes WHERE project_id = ?1 AND minute < ?2")
      .bind(projectId, now - MINUTES_KEPT_MS),
    groups
      .prepare(
        `DELETE FROM alert_state WHERE rule_id IN (${RULE_IDS}) AND (quiet_until < ?2
           OR NOT EXISTS (SELECT 1 FROM error_groups g WHERE g.project_id = ?1 AND g.id = alert_state.group_id))`,
      )
      .bind(projectId, now, JSON.stringify(rules)),
  ];
}

/** One project's alert data: rules live in the control database, counts and cooldowns on its shard. */
export async function expireAlertData(
  control: D1Database,
  groups: D1Database,
  projectId: number,
  cutoff: number,
  now: number,
): Promise<void> {
  const rules = (await alertRulesOf(control, [projectId])).get(projectId) ?? [];
  await alertDeliveryDelete(control, projectId, rules, cutoff)?.run();
  await groups.batch(alertShardDeletes(groups, projectId, rules, now));
}
