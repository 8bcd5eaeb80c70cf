// The delivery log (GET .../alert-rules/:ruleId/deliveries): one row per alert, updated by every
// attempt, with the attempts themselves in a capped JSON array. Written by the alerter only.

import type { AlertMessage } from "../../shared/alerts/message";

/** delivered · retrying (another attempt is scheduled) · failed (the target refused it: 4xx/3xx)
 *  · refused (the SSRF guard) · dead_letter (the retry budget is spent) */
export type DeliveryStatus = "delivered" | "retrying" | "failed" | "refused" | "dead_letter";

export interface AttemptRecord {
  attempt: number;
  at: number;
  status: number | null;
  error: string | null;
  latencyMs: number;
}

const MAX_LOGGED_ATTEMPTS = 20;

export async function recordAttempt(
  db: D1Database,
  alert: AlertMessage,
  status: DeliveryStatus,
  a: AttemptRecord,
): Promise<void> {
  const entry = JSON.stringify(a);
  await db
    .prepare(
      `INSERT INTO alert_deliveries (rule_id, id, project_id, group_id, trigger, status, attempts, last_status_code,
         last_error, latency_ms, attempts_log, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, json_array(json(?10)), ?11, ?11)
       ON CONFLICT (rule_id, id) DO UPDATE SET status = excluded.status, attempts = attempts + 1,
         last_status_code = excluded.last_status_code, last_error = excluded.last_error,
         latency_ms = excluded.latency_ms, updated_at = excluded.updated_at,
         attempts_log = CASE WHEN json_array_length(attempts_log) < ${MAX_LOGGED_ATTEMPTS}
           THEN json_insert(attempts_log, '$[#]', json(?10)) ELSE attempts_log END`,
    )
    .bind(
      alert.ruleId,
      alert.deliveryId,
      alert.projectId,
      alert.group?.id ?? null,
      alert.trigger,
      status,
      a.status,
      a.error,
      a.latencyMs,
      entry,
      a.at,
    )
    .run();
}
