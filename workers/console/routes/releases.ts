// Release health: sessions per release and environment over a time range, with the crash-free
// rate (sessions that did not crash / sessions started), from the processor's session_minutes.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, gte, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { sessionMinutes } from "../../../shared/db/schema";
import { metaDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam, TimeRangeQuery } from "../schemas";
import { timeRange } from "../time-range";
import { validationHook } from "../validation";

export const releaseRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

export const ReleaseHealthSchema = z
  .object({
    release: z.string(),
    environment: z.string().openapi({ description: '"" when the SDK sent none' }),
    sessions: z.number().openapi({ description: "Sessions started" }),
    crashed: z.number(),
    errored: z.number(),
    abnormal: z.number(),
    crashFreeRate: z
      .number()
      .nullable()
      .openapi({ description: "1 − crashed / sessions, in [0, 1]; null without sessions" }),
  })
  .openapi("ReleaseHealth");

releaseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/releases",
    request: { params: ProjectIdParam, query: TimeRangeQuery },
    responses: {
      200: json(
        z.object({ releases: z.array(ReleaseHealthSchema) }),
        "Release health per release and environment, most sessions first",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { from, to } = timeRange(c.req.valid("query"));
    const s = sessionMinutes;
    const rows = await drizzle(await metaDb(c.env, id))
      .select({
        release: s.release,
        environment: s.environment,
        sessions: sql<number>`sum(${s.started})`,
        crashed: sql<number>`sum(${s.crashed})`,
        errored: sql<number>`sum(${s.errored})`,
        abnormal: sql<number>`sum(${s.abnormal})`,
      })
      .from(s)
      .where(
        and(
          eq(s.projectId, Number(id)),
          gte(s.minute, Math.floor(from / 60_000) * 60_000),
          lte(s.minute, to),
        ),
      )
      .groupBy(s.release, s.environment);
    const releases = rows
      .map((r) => {
        const sessions = Number(r.sessions);
        const crashed = Number(r.crashed);
        return {
          release: r.release,
          environment: r.environment,
          sessions,
          crashed,
          errored: Number(r.errored),
          abnormal: Number(r.abnormal),
          crashFreeRate: sessions > 0 ? Math.max(0, Math.min(1, 1 - crashed / sessions)) : null,
        };
      })
      .sort((a, b) => b.sessions - a.sessions || a.release.localeCompare(b.release));
    return c.json({ releases }, 200);
  },
);
