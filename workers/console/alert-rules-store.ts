// Alert rules and deliveries as the console stores and shows them: the API's response schemas
// (in the OpenAPI document), the D1 rows, and the views between them (routes/alert-rules.ts).

import { z } from "@hono/zod-openapi";
import { parseConfig } from "../../shared/alerts/rules";
import { ProjectIdParam } from "./schemas";

export const RuleParams = ProjectIdParam.extend({
  ruleId: z.string().regex(/^[0-9a-f]{16}$/, "invalid rule id"),
});

export const AlertRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    triggers: z.array(z.string()),
    target: z.object({ type: z.string(), url: z.string() }),
    threshold: z.object({ count: z.number(), windowMinutes: z.number() }).nullable(),
    spike: z.object({ minCount: z.number(), factor: z.number() }).nullable(),
    environment: z.string().nullable(),
    level: z.string().nullable(),
    cooldownMinutes: z.number(),
    enabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AlertRule");

export const CreatedRuleSchema = AlertRuleSchema.extend({
  secret: z
    .string()
    .openapi({ description: "Key of X-Sluice-Signature (HMAC-SHA256 of the body); shown once" }),
}).openapi("CreatedAlertRule");

export const DeliverySchema = z
  .object({
    id: z.string(),
    trigger: z.string(),
    groupId: z.string().nullable(),
    status: z.string().openapi({ description: "delivered · retrying · failed · refused · dead_letter" }),
    attempts: z.number(),
    lastStatusCode: z.number().nullable(),
    lastError: z.string().nullable(),
    latencyMs: z.number().nullable(),
    attemptsLog: z.array(
      z.object({
        attempt: z.number(),
        at: z.number(),
        status: z.number().nullable(),
        error: z.string().nullable(),
        latencyMs: z.number(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AlertDelivery");

export interface RuleRow {
  project_id: number;
  id: string;
  name: string;
  config: string;
  target_type: string;
  target_url: string;
  secret: string;
  cooldown_minutes: number;
  enabled: number;
  created_at: number;
  updated_at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function ruleView(r: RuleRow) {
  const c = parseConfig(r.config);
  return {
    id: r.id,
    name: r.name,
    triggers: c.triggers,
    target: { type: r.target_type, url: r.target_url },
    threshold: c.threshold,
    spike: c.spike,
    environment: c.environment,
    level: c.level,
    cooldownMinutes: r.cooldown_minutes,
    enabled: r.enabled === 1,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export const getRule = (db: D1Database, projectId: string, ruleId: string) =>
  db
    .prepare("SELECT * FROM alert_rules WHERE project_id = ? AND id = ?")
    .bind(Number(projectId), ruleId)
    .first<RuleRow>();

export interface DeliveryRow {
  id: string;
  trigger: string;
  group_id: string | null;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  attempts_log: string;
  created_at: number;
  updated_at: number;
}

export function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    trigger: d.trigger,
    groupId: d.group_id,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    latencyMs: d.latency_ms,
    attemptsLog: JSON.parse(d.attempts_log),
    createdAt: iso(d.created_at),
    updatedAt: iso(d.updated_at),
  };
}
