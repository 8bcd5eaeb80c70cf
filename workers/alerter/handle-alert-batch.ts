// The alerter's queue consumer (sluice-alerts): each message is one alert to one rule's target.
//
//   decode (poison ─▶ sluice-dlq) ─▶ rule and project (D1) ─▶ SSRF guard (refused: logged, done)
//     ─▶ signed POST ─▶ 2xx delivered · 4xx failed · network/408/429/5xx ─▶ retry after the backoff
//        or Retry-After (message.retry) ─▶ budget spent: dead letter (sluice-dlq) · every attempt logged
//
// Messages are delivered concurrently, so one slow target (at most ALERT_TIMEOUT_MS) does not hold
// up another project's alerts in the same batch.

import { type AlertMessage, alertMessageSchema } from "../../shared/alerts/message";
import { slackMessage, webhookPayload } from "../../shared/alerts/payload";
import { signatureHeader } from "../../shared/alerts/signature";
import { allowPrivateTargets, targetProblem } from "../../shared/alerts/target-guard";
import { attemptDelivery } from "./deliver";
import { recordAttempt } from "./deliveries";
import { nextDelay, retryAfterSeconds, retryDelays } from "./retry-policy";

export interface AlertDeliveryEnv {
  DB: D1Database;
  Q_DLQ: Queue;
  ALLOW_PRIVATE_ALERT_TARGETS?: string;
  ALERT_RETRY_DELAYS?: string;
  ALERT_TIMEOUT_MS?: string;
  DASHBOARD_URL?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

interface RuleRow {
  name: string;
  target_type: string;
  target_url: string;
  secret: string;
  enabled: number;
}

async function deadLetter(env: AlertDeliveryEnv, reason: string, body: unknown): Promise<void> {
  await env.Q_DLQ.send(JSON.stringify({ v: 1, deadLetter: { queue: "sluice-alerts", reason }, body }), {
    contentType: "text",
  });
}

function decode(body: unknown): AlertMessage | string {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return "not JSON";
    }
  }
  const r = alertMessageSchema.safeParse(value);
  return r.success
    ? r.data
    : `invalid alert message: ${r.error.issues[0]?.path.join(".")} ${r.error.issues[0]?.message}`;
}

/** The request a rule's target gets for an alert: the body and its signed headers. */
export async function buildRequest(
  alert: AlertMessage,
  rule: { id: string; name: string; targetType: string; secret: string },
  project: { id: number; name: string },
  dashboardUrl: string,
): Promise<{ body: string; headers: Record<string, string> }> {
  const payload = webhookPayload(alert, rule, project, dashboardUrl);
  const body = JSON.stringify(rule.targetType === "slack" ? slackMessage(payload) : payload);
  return {
    body,
    headers: {
      "x-sluice-delivery": alert.deliveryId,
      "x-sluice-signature": await signatureHeader(rule.secret, body),
    },
  };
}

async function handleOne(msg: Message<unknown>, env: AlertDeliveryEnv): Promise<void> {
  const alert = decode(msg.body);
  if (typeof alert === "string") {
    console.error(JSON.stringify({ msg: "alert message dead-lettered", reason: alert }));
    await deadLetter(env, alert, msg.body);
    msg.ack();
    return;
  }
  const rule = await env.DB.prepare(
    "SELECT name, target_type, target_url, secret, enabled FROM alert_rules WHERE project_id = ? AND id = ?",
  )
    .bind(alert.projectId, alert.ruleId)
    .first<RuleRow>();
  // A rule deleted (or disabled) since the alert was decided no longer wants it.
  if (!rule || (!rule.enabled && alert.trigger !== "test")) {
    msg.ack();
    return;
  }
  const project = await env.DB.prepare("SELECT name FROM projects WHERE id = ?")
    .bind(alert.projectId)
    .first<{ name: string }>();
  const at = Date.now();
  const problem = targetProblem(rule.target_url, { allowPrivate: allowPrivateTargets(env) });
  if (problem) {
    await recordAttempt(env.DB, alert, "refused", {
      attempt: msg.attempts,
      at,
      status: null,
      error: problem,
      latencyMs: 0,
    });
    msg.ack();
    return;
  }
  const { body, headers } = await buildRequest(
    alert,
    { id: alert.ruleId, name: rule.name, targetType: rule.target_type, secret: rule.secret },
    { id: alert.projectId, name: project?.name ?? String(alert.projectId) },
    env.DASHBOARD_URL ?? "",
  );
  const timeoutMs = Number(env.ALERT_TIMEOUT_MS) > 0 ? Number(env.ALERT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  const r = await attemptDelivery({ url: rule.target_url, body, headers, timeoutMs });
  const record = {
    attempt: msg.attempts,
    at,
    status: r.status,
    error: r.outcome === "delivered" ? null : r.error,
    latencyMs: r.latencyMs,
  };
  if (r.outcome === "delivered" || r.outcome === "failed") {
    await recordAttempt(env.DB, alert, r.outcome, record);
    msg.ack();
    return;
  }
  const delay = nextDelay(retryDelays(env.ALERT_RETRY_DELAYS), msg.attempts, retryAfterSeconds(r.retryAfter));
  if (delay === null) {
    const reason = `delivery failed after ${msg.attempts} attempts: ${r.error}`;
    await deadLetter(env, reason, alert);
    await recordAttempt(env.DB, alert, "dead_letter", record);
    msg.ack();
    return;
  }
  await recordAttempt(env.DB, alert, "retrying", record);
  msg.retry({ delaySeconds: delay });
}

export async function handleAlertBatch(batch: MessageBatch<unknown>, env: AlertDeliveryEnv): Promise<void> {
  await Promise.all(
    batch.messages.map((msg) =>
      handleOne(msg, env).catch((err) => {
        // D1 or the dead-letter queue failed: the whole attempt runs again later (a target may
        // then get the alert twice, never zero times; X-Sluice-Delivery lets it tell).
        console.error(JSON.stringify({ msg: "alert attempt failed, retrying", error: String(err) }));
        msg.retry({ delaySeconds: 30 });
      }),
    ),
  );
}
