// Alert rules of a project (issue #14): create, list, read, change, delete; each rule's delivery
// log; and "send test alert". Rules live in the control database; the processor decides alerts
// with them (workers/processor/alerts-hook.ts) and the alerter delivers (workers/alerter).
// Targets pass the SSRF guard when saved (shared/alerts/target-guard.ts), and again at delivery.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AlertMessage } from "../../../shared/alerts/message";
import {
  type AlertRuleConfig,
  configOf,
  createRuleSchema,
  mergeRule,
  parseConfig,
  patchRuleSchema,
} from "../../../shared/alerts/rules";
import { allowPrivateTargets, targetProblem } from "../../../shared/alerts/target-guard";
import { newEventId, randomHex } from "../../../shared/ids";
import { getProject } from "../projects-store";
import { errorResponses, json, ProjectIdParam } from "../schemas";
import { validationHook } from "../validation";

export const alertRuleRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const MAX_RULES_PER_PROJECT = 50;

const RuleParams = ProjectIdParam.extend({
  ruleId: z.string().regex(/^[0-9a-f]{16}$/, "invalid rule id"),
});

const AlertRuleSchema = z
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

const CreatedRuleSchema = AlertRuleSchema.extend({
  secret: z
    .string()
    .openapi({ description: "Key of X-Sluice-Signature (HMAC-SHA256 of the body); shown once" }),
}).openapi("CreatedAlertRule");

const DeliverySchema = z
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

interface RuleRow {
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

function ruleView(r: RuleRow) {
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

const getRule = (db: D1Database, projectId: string, ruleId: string) =>
  db
    .prepare("SELECT * FROM alert_rules WHERE project_id = ? AND id = ?")
    .bind(Number(projectId), ruleId)
    .first<RuleRow>();

const guardOf = (env: ConsoleEnv) => ({ allowPrivate: allowPrivateTargets(env) });

const body = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

alertRuleRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects/{id}/alert-rules",
    request: { params: ProjectIdParam, body: body(createRuleSchema) },
    responses: { 201: json(CreatedRuleSchema, "The new rule, with its signing secret"), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    if (!(await getProject(c.env.DB, id))) return c.json({ error: "project not found" }, 404);
    const problem = targetProblem(input.target.url, guardOf(c.env));
    if (problem) return c.json({ error: problem }, 400);
    const count = await c.env.DB.prepare("SELECT count(*) AS n FROM alert_rules WHERE project_id = ?")
      .bind(Number(id))
      .first<{ n: number }>();
    if ((count?.n ?? 0) >= MAX_RULES_PER_PROJECT)
      return c.json({ error: `a project has at most ${MAX_RULES_PER_PROJECT} alert rules` }, 400);
    const now = Date.now();
    const row: RuleRow = {
      project_id: Number(id),
      id: randomHex(8),
      name: input.name,
      config: JSON.stringify(configOf(input)),
      target_type: input.target.type,
      target_url: input.target.url,
      secret: randomHex(32),
      cooldown_minutes: input.cooldownMinutes,
      enabled: input.enabled ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    await c.env.DB.prepare(
      `INSERT INTO alert_rules (project_id, id, name, config, target_type, target_url, secret, cooldown_minutes,
         enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(...Object.values(row))
      .run();
    return c.json({ ...ruleView(row), secret: row.secret }, 201);
  },
);

alertRuleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/alert-rules",
    request: { params: ProjectIdParam },
    responses: {
      200: json(z.object({ rules: z.array(AlertRuleSchema) }), "The project's rules"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const rows = await c.env.DB.prepare(
      "SELECT * FROM alert_rules WHERE project_id = ? ORDER BY created_at, id",
    )
      .bind(Number(id))
      .all<RuleRow>();
    return c.json({ rules: rows.results.map(ruleView) }, 200);
  },
);

alertRuleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/alert-rules/{ruleId}",
    request: { params: RuleParams },
    responses: { 200: json(CreatedRuleSchema, "One rule, with its signing secret"), ...errorResponses },
  }),
  async (c) => {
    const { id, ruleId } = c.req.valid("param");
    const row = await getRule(c.env.DB, id, ruleId);
    if (!row) return c.json({ error: "alert rule not found" }, 404);
    return c.json({ ...ruleView(row), secret: row.secret }, 200);
  },
);

alertRuleRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/api/v1/projects/{id}/alert-rules/{ruleId}",
    request: { params: RuleParams, body: body(patchRuleSchema) },
    responses: { 200: json(AlertRuleSchema, "The rule after the change"), ...errorResponses },
  }),
  async (c) => {
    const { id, ruleId } = c.req.valid("param");
    const patch = c.req.valid("json");
    const row = await getRule(c.env.DB, id, ruleId);
    if (!row) return c.json({ error: "alert rule not found" }, 404);
    const merged = mergeRule(parseConfig(row.config), patch);
    if ("error" in merged) return c.json({ error: merged.error }, 400);
    if (patch.target) {
      const problem = targetProblem(patch.target.url, guardOf(c.env));
      if (problem) return c.json({ error: problem }, 400);
    }
    const next: RuleRow = {
      ...row,
      name: patch.name ?? row.name,
      config: JSON.stringify(merged.config satisfies AlertRuleConfig),
      target_type: patch.target?.type ?? row.target_type,
      target_url: patch.target?.url ?? row.target_url,
      cooldown_minutes: patch.cooldownMinutes ?? row.cooldown_minutes,
      enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
      updated_at: Date.now(),
    };
    await c.env.DB.prepare(
      `UPDATE alert_rules SET name = ?, config = ?, target_type = ?, target_url = ?, cooldown_minutes = ?,
         enabled = ?, updated_at = ? WHERE project_id = ? AND id = ?`,
    )
      .bind(
        next.name,
        next.config,
        next.target_type,
        next.target_url,
        next.cooldown_minutes,
        next.enabled,
        next.updated_at,
        next.project_id,
        next.id,
      )
      .run();
    return c.json(ruleView(next), 200);
  },
);

alertRuleRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/api/v1/projects/{id}/alert-rules/{ruleId}",
    request: { params: RuleParams },
    responses: {
      204: { description: "Deleted, with its cooldowns and delivery log" },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, ruleId } = c.req.valid("param");
    const [deleted] = await c.env.DB.batch([
      c.env.DB.prepare("DELETE FROM alert_rules WHERE project_id = ? AND id = ?").bind(Number(id), ruleId),
      c.env.DB.prepare("DELETE FROM alert_state WHERE rule_id = ?").bind(ruleId),
      c.env.DB.prepare("DELETE FROM alert_deliveries WHERE rule_id = ?").bind(ruleId),
    ]);
    if (!deleted?.meta.changes) return c.json({ error: "alert rule not found" }, 404);
    return c.body(null, 204);
  },
);

interface DeliveryRow {
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

alertRuleRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/alert-rules/{ruleId}/deliveries",
    request: {
      params: RuleParams,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).optional(),
        cursor: z
          .string()
          .regex(/^[0-9a-f]{32}$/, "invalid cursor")
          .optional(),
      }),
    },
    responses: {
      200: json(
        z.object({ deliveries: z.array(DeliverySchema), next: z.string().nullable() }),
        "Deliveries, newest first, each with its attempts",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, ruleId } = c.req.valid("param");
    const { limit = 50, cursor } = c.req.valid("query");
    if (!(await getRule(c.env.DB, id, ruleId))) return c.json({ error: "alert rule not found" }, 404);
    const rows = await c.env.DB.prepare(
      `SELECT * FROM alert_deliveries WHERE rule_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    )
      .bind(ruleId, cursor ?? "g", limit + 1)
      .all<DeliveryRow>();
    const page = rows.results.slice(0, limit);
    return c.json(
      {
        deliveries: page.map((d) => ({
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
        })),
        next: rows.results.length > limit ? page[page.length - 1]!.id : null,
      },
      200,
    );
  },
);

alertRuleRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects/{id}/alert-rules/{ruleId}/test",
    request: { params: RuleParams },
    responses: {
      202: json(
        z.object({ deliveryId: z.string() }),
        "A test alert is queued; its delivery shows in the log",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, ruleId } = c.req.valid("param");
    if (!(await getRule(c.env.DB, id, ruleId))) return c.json({ error: "alert rule not found" }, 404);
    const now = Date.now();
    const message: AlertMessage = {
      v: 1,
      deliveryId: newEventId(now),
      ruleId,
      projectId: Number(id),
      trigger: "test",
      decidedAt: now,
      group: null,
      event: null,
    };
    await c.env.Q_ALERTS.send(JSON.stringify(message), { contentType: "text" });
    return c.json({ deliveryId: message.deliveryId }, 202);
  },
);
