// Real-user monitoring per page: views and load-time percentiles over a time range, merging the
// per-minute load-time histograms the processor writes (rum_page_minutes) into one per page.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, gte, lte } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { rumPageMinutes } from "../../../shared/db/schema";
import { BUCKET_COUNT, percentileFromHistogram } from "../../../shared/rum/page-views";
import { metaDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam, TimeRangeQuery } from "../schemas";
import { timeRange } from "../time-range";
import { validationHook } from "../validation";

export const rumRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

export const RumPageSchema = z
  .object({
    page: z.string().openapi({ description: "Path without query or fragment" }),
    views: z.number(),
    loadCount: z.number().openapi({ description: "Views that reported a load time" }),
    avgLoadMs: z.number().nullable(),
    p50Ms: z.number().nullable().openapi({ description: "Upper bound of the histogram bucket holding p50" }),
    p75Ms: z.number().nullable(),
    p95Ms: z.number().nullable(),
  })
  .openapi("RumPage");

interface PageAgg {
  views: number;
  loadCount: number;
  loadSum: number;
  histogram: number[];
}

/** Adds one minute's histogram (a JSON array of counts, possibly as strings) into `into`. */
function mergeHistogram(into: number[], json: string): void {
  let counts: unknown;
  try {
    counts = JSON.parse(json);
  } catch {
    return;
  }
  if (!Array.isArray(counts)) return;
  for (let i = 0; i < Math.min(counts.length, into.length); i++) {
    const n = Number(counts[i]);
    if (Number.isFinite(n)) into[i]! += n;
  }
}

rumRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/rum/pages",
    request: { params: ProjectIdParam, query: TimeRangeQuery },
    responses: {
      200: json(
        z.object({ pages: z.array(RumPageSchema) }),
        "Pages by views, most viewed first, with load-time percentiles",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { from, to } = timeRange(c.req.valid("query"));
    const rows = await drizzle(await metaDb(c.env, id))
      .select()
      .from(rumPageMinutes)
      .where(
        and(
          eq(rumPageMinutes.projectId, Number(id)),
          gte(rumPageMinutes.minute, Math.floor(from / 60_000) * 60_000),
          lte(rumPageMinutes.minute, to),
        ),
      );
    const pages = new Map<string, PageAgg>();
    for (const r of rows) {
      let agg = pages.get(r.page);
      if (!agg)
        pages.set(
          r.page,
          (agg = { views: 0, loadCount: 0, loadSum: 0, histogram: Array(BUCKET_COUNT).fill(0) }),
        );
      agg.views += r.views;
      agg.loadCount += r.loadCount;
      agg.loadSum += r.loadSumMs;
      mergeHistogram(agg.histogram, r.histogram);
    }
    const out = [...pages]
      .map(([page, a]) => ({
        page,
        views: a.views,
        loadCount: a.loadCount,
        avgLoadMs: a.loadCount > 0 ? Math.round(a.loadSum / a.loadCount) : null,
        p50Ms: percentileFromHistogram(a.histogram, 0.5),
        p75Ms: percentileFromHistogram(a.histogram, 0.75),
        p95Ms: percentileFromHistogram(a.histogram, 0.95),
      }))
      .sort((x, y) => y.views - x.views || x.page.localeCompare(y.page));
    return c.json({ pages: out }, 200);
  },
);
