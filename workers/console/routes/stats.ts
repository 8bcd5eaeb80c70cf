// Outcome statistics: where every report went (accepted or each drop reason), per category and
// minute-aggregated bucket, over a time range.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, gte, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { outcomes } from "../../../shared/db/schema";
import { metaDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam, TimeRangeQuery } from "../schemas";
import { timeRange } from "../time-range";
import { validationHook } from "../validation";

export const statsRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const Row = z.object({
  t: z.string(),
  category: z.string(),
  outcome: z.string(),
  reason: z.string(),
  quantity: z.number(),
});

statsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/stats",
    request: {
      params: ProjectIdParam,
      query: TimeRangeQuery.extend({
        interval: z.enum(["1m", "1h", "1d"]).optional().openapi({ description: "Bucket size; default 1h" }),
      }),
    },
    responses: {
      200: json(
        z.object({
          from: z.string(),
          to: z.string(),
          interval: z.string(),
          series: z.array(Row),
          totals: z.array(Row.omit({ t: true })),
        }),
        "Outcome counts per category, outcome and reason over time",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const { from, to } = timeRange(q);
    const interval = q.interval ?? "1h";
    const step = interval === "1m" ? 60_000 : interval === "1h" ? 3600_000 : 86_400_000;
    const where = and(
      eq(outcomes.projectId, Number(id)),
      gte(outcomes.minute, Math.floor(from / 60_000) * 60_000),
      lte(outcomes.minute, to),
    );
    const rows = await drizzle(await metaDb(c.env, id))
      .select({
        b: sql<number>`(${outcomes.minute} / ${sql.raw(String(step))}) * ${sql.raw(String(step))}`,
        category: outcomes.category,
        outcome: outcomes.outcome,
        reason: outcomes.reason,
        quantity: sql<number>`sum(${outcomes.quantity})`,
      })
      .from(outcomes)
      .where(where)
      .groupBy(sql`1`, outcomes.category, outcomes.outcome, outcomes.reason)
      .orderBy(sql`1`);
    const totals = new Map<string, { category: string; outcome: string; reason: string; quantity: number }>();
    for (const r of rows) {
      const k = `${r.category}\u0000${r.outcome}\u0000${r.reason}`;
      const t = totals.get(k) ?? { category: r.category, outcome: r.outcome, reason: r.reason, quantity: 0 };
      t.quantity += Number(r.quantity);
      totals.set(k, t);
    }
    return c.json(
      {
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        interval,
        series: rows.map((r) => ({
          t: new Date(Number(r.b)).toISOString(),
          category: r.category,
          outcome: r.outcome,
          reason: r.reason,
          quantity: Number(r.quantity),
        })),
        totals: [...totals.values()],
      },
      200,
    );
  },
);
