// Retention of what alerting writes (called per project by retention.ts): the delivery log after
// the project's retention, per-minute counts once spike and frequency no longer look at them, and
// cooldowns that have ended or whose group is gone (so a group that comes back is new again).
// Every statement walks a primary-key prefix (rule id, or project id), never a whole table.

import { timeHex } from "../../shared/ids";

const MINUTES_KEPT_MS = 2 * 3_600_000;

export async function expireAlertData(
  control: D1Database,
  groups: D1Database,
  projectId: number,
  cutoff: number,
  now: number,
): Promise<void> {
  // Rules live in the control database, cooldowns and minute counts with the project's groups
  // (its metadata shard): the rule ids are read once and passed to the shard's statements.
  const rules = (
    await control
      .prepare("SELECT id FROM alert_rules WHERE project_id = ?")
      .bind(projectId)
      .all<{ id: string }>()
  ).results.map((r) => r.id);
  const ruleIds = "SELECT value FROM json_each(?3)";
  // Delivery ids start with their time in hex (shared/ids.ts), so "older than" is a key range.
  if (rules.length > 0)
    await control
      .prepare(`DELETE FROM alert_deliveries WHERE rule_id IN (${ruleIds}) AND id < ?2`)
      .bind(projectId, timeHex(cutoff), JSON.stringify(rules))
      .run();
  await groups.batch([
    groups
      .prepare("DELETE FROM group_minutes WHERE project_id = ?1 AND minute < ?2")
      .bind(projectId, now - MINUTES_KEPT_MS),
    groups
      .prepare(
        `DELETE FROM alert_state WHERE rule_id IN (${ruleIds}) AND (quiet_until < ?2
           OR NOT EXISTS (SELECT 1 FROM error_groups g WHERE g.project_id = ?1 AND g.id = alert_state.group_id))`,
      )
      .bind(projectId, now, JSON.stringify(rules)),
  ]);
}
