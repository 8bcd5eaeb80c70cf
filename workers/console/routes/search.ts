// Search over a project's events through the configured backend (Elasticsearch, or D1 FTS5 when
// no ELASTICSEARCH_URL is set): free text and field:value terms, filters, cursor paging, and
// matches per group so the dashboard can show which groups match.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ClientError } from "../../../shared/http/errors";
import { createSearchBackend } from "../../../shared/search";
import { knownProjectDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam, TimeValue } from "../schemas";
import { openTimeRange } from "../time-range";
import { validationHook } from "../validation";

export const searchRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const HitSchema = z
  .object({
    eventId: z.string(),
    groupId: z.string().nullable(),
    occurredAt: z.string(),
    type: z.string().nullable(),
    message: z.string(),
    release: z.string().nullable(),
    environment: z.string().nullable(),
    level: z.string(),
  })
  .openapi("SearchHit");

searchRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/search",
    request: {
      params: ProjectIdParam,
      query: z.object({
        q: z.string().max(2048).optional().openapi({
          description:
            'Free text, "phrases" and field:value terms (type, level, release, environment, user, groupId, fingerprint, platform, category, tags.<key>); a leading - negates',
        }),
        from: TimeValue.optional(),
        to: TimeValue.optional(),
        release: z.string().max(200).optional(),
        environment: z.string().max(64).optional(),
        level: z.string().max(16).optional(),
        groupId: z.string().max(64).optional(),
        limit: z.coerce.number().int().min(1).max(100).optional(),
        cursor: z.string().max(500).optional(),
      }),
    },
    responses: {
      200: json(
        z.object({
          hits: z.array(HitSchema),
          total: z.number().openapi({ description: "Matches, counted up to 10,000 (see totalRelation)" }),
          totalRelation: z.enum(["eq", "gte"]).openapi({
            description:
              '"eq": total is every match; "gte": there are at least total (the count stopped at its cap)',
          }),
          next: z.string().nullable(),
          groups: z.array(z.object({ groupId: z.string(), count: z.number() })),
          backend: z.enum(["elasticsearch", "fts"]),
        }),
        "Matching events, newest first, with matches per group",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    // from after to is the 400 stats answers (not an empty page), an unknown project a 404.
    openTimeRange(q);
    await knownProjectDb(c.env, id);
    const backend = createSearchBackend(c.env);
    try {
      const result = await backend.search({ projectId: id, ...q });
      return c.json({ ...result, backend: backend.name }, 200);
    } catch (err) {
      if (err instanceof ClientError) throw err;
      // The search engine is down or overloaded: transient, so 503 (events are still being stored).
      console.warn(
        JSON.stringify({ msg: "search backend failed", backend: backend.name, error: String(err) }),
      );
      return c.json({ error: `search backend (${backend.name}) unavailable, try again shortly` }, 503, {
        "Retry-After": "10",
      });
    }
  },
);
