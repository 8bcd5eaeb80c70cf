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
import {
  AlertRuleSchema,
  CreatedRuleSchema,
  type DeliveryRow,
  DeliverySchema,
  deliveryView,
  getRule,
  RuleParams,
  type RuleRow,
  ruleView,
} from "../alert-rules-store";
import { getProject, knownProjectDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam } from "../schemas";
import { validationHook } from "../validation";

export const alertRuleRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const MAX_RULES_PER_PROJECT = 50;

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
    await knownProjectDb(c.env, id);
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
    // Both statements name the project: a rule id asked through another project deletes nothing.
    const [deleted] = await c.env.DB.batch([
      c.env.DB.prepare("DELETE FROM alert_rules WHERE project_id = ? AND id = ?").bind(Number(id), ruleId),
      c.env.DB.prepare("DELETE FROM alert_deliveries WHERE rule_id = ? AND project_id = ?").bind(
        ruleId,
        Number(id),
      ),
    ]);
    if (!deleted?.meta.changes) return c.json({ error: "alert rule not found" }, 404);
    // Cooldowns live with the groups, on the project's metadata shard, keyed by rule alone (they
    // have no project column): reached only once this project's rule is deleted above, so they
    // are that rule's.
    await (await knownProjectDb(c.env, id))
      .prepare("DELETE FROM alert_state WHERE rule_id = ?")
      .bind(ruleId)
      .run();
    return c.body(null, 204);
  },
);

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
      `SELECT * FROM alert_deliveries WHERE rule_id = ? AND project_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    )
      .bind(ruleId, Number(id), cursor ?? "g", limit + 1)
      .all<DeliveryRow>();
    const page = rows.results.slice(0, limit);
    return c.json(
      {
        deliveries: page.map(deliveryView),
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
