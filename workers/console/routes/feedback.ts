// User feedback (Sentry user_report items and feedback events, stored by the processor): a group's
// feedback, newest first and keyset-paged, and an event's. Read by the user_feedback indexes only.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { userFeedback } from "../../../shared/db/schema";
import { decodeCursor, pageOf } from "../keyset";
import { metaDb } from "../projects-store";
import { EventParams, errorResponses, GroupParams, json, PageQuery } from "../schemas";
import { validationHook } from "../validation";

export const feedbackRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

export const FeedbackSchema = z
  .object({
    id: z.string(),
    eventId: z.string().nullable(),
    groupId: z.string().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    message: z.string(),
    url: z.string().nullable(),
    source: z.enum(["user_report", "feedback"]),
    createdAt: z.string(),
  })
  .openapi("UserFeedback");

type Row = typeof userFeedback.$inferSelect;

export const feedbackView = (r: Row): z.infer<typeof FeedbackSchema> => ({
  id: r.id,
  eventId: r.eventId,
  groupId: r.groupId,
  name: r.name,
  email: r.email,
  message: r.message,
  url: r.url,
  source: r.source === "feedback" ? "feedback" : "user_report",
  createdAt: new Date(r.createdAt).toISOString(),
});

const EVENT_FEEDBACK_LIMIT = 50;

/**
 * Feedback rows by one of the table's indexes, named: with few rows (and no ANALYZE) SQLite would
 * rather walk the project's primary-key range, which grows with the project's feedback.
 */
async function select(db: D1Database, where: string, params: unknown[]): Promise<Row[]> {
  const rows = await db
    .prepare(
      `SELECT project_id AS projectId, id, event_id AS eventId, group_id AS groupId, name, email, message,
         url, source, created_at AS createdAt FROM user_feedback ${where}`,
    )
    .bind(...params)
    .all<Row>();
  return rows.results;
}

feedbackRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/groups/{groupId}/feedback",
    request: { params: GroupParams, query: PageQuery },
    responses: {
      200: json(
        z.object({ feedback: z.array(FeedbackSchema), next: z.string().nullable() }),
        "User feedback on the group's events, newest first",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, groupId } = c.req.valid("param");
    const { limit = 50, cursor } = c.req.valid("query");
    const cur = decodeCursor(cursor);
    if (cur === undefined) return c.json({ error: "cursor: invalid cursor" }, 400);
    const after = cur ? "AND (created_at < ?3 OR (created_at = ?3 AND id < ?4))" : "";
    const rows = await select(
      await metaDb(c.env, id),
      `INDEXED BY user_feedback_group WHERE project_id = ?1 AND group_id = ?2 ${after}
       ORDER BY created_at DESC, id DESC LIMIT ?5`,
      [Number(id), groupId, cur?.time ?? 0, cur?.id ?? "", limit + 1],
    );
    const { items, next } = pageOf(rows, limit, (r) => ({ time: r.createdAt, id: r.id }));
    return c.json({ feedback: items.map(feedbackView), next }, 200);
  },
);

feedbackRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/events/{eventId}/feedback",
    request: { params: EventParams },
    responses: {
      200: json(z.object({ feedback: z.array(FeedbackSchema) }), "User feedback on the event, newest first"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, eventId } = c.req.valid("param");
    const rows = await select(
      await metaDb(c.env, id),
      "INDEXED BY user_feedback_event WHERE project_id = ?1 AND event_id = ?2 ORDER BY created_at DESC LIMIT ?3",
      [Number(id), eventId, EVENT_FEEDBACK_LIMIT],
    );
    return c.json({ feedback: rows.map(feedbackView) }, 200);
  },
);
