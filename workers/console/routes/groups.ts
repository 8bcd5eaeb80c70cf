// Error groups of a project: list (newest activity first, with status filter), one group, status
// changes (active / resolved / ignored), a group's events (from the event index, the search
// backend), and its occurrence histogram (from the group_hours aggregate, never per-event rows).

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { errorGroups } from "../../../shared/db/schema";
import { estimateUsers } from "../../../shared/hll";
import { ClientError } from "../../../shared/http/errors";
import { createSearchBackend } from "../../../shared/search";
import type { IndexedEvent } from "../../../shared/search/backend";
import { GroupStatusPatch, resolvedInReleaseColumns } from "../group-status";
import { decodeCursor, olderThan, pageOf } from "../keyset";
import { facetFilter, GroupFacetQuery, mergedGroupEvents, mergedSources } from "../merged-groups";
import { metaDb } from "../projects-store";
import {
  EventSummarySchema,
  errorResponses,
  GroupParams,
  GroupSchema,
  GroupStatus,
  json,
  PageQuery,
  ProjectIdParam,
} from "../schemas";
import { occurrences } from "../ui/data";
import { validationHook } from "../validation";

export const groupRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

type GroupRow = typeof errorGroups.$inferSelect;

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function groupView(g: GroupRow) {
  return {
    id: g.id,
    type: g.type,
    message: g.message,
    culprit: g.culprit,
    level: g.level,
    platform: g.platform,
    status: g.status as z.infer<typeof GroupStatus>,
    count: g.count,
    firstSeen: iso(g.firstSeen)!,
    lastSeen: iso(g.lastSeen)!,
    lastEventId: g.lastEventId,
    lastRelease: g.lastRelease,
    regressedAt: iso(g.regressedAt),
    resolvedInRelease: g.resolvedInRelease,
    groupingVersion: g.groupingVersion,
    users: estimateUsers(g.users),
    mergedInto: g.mergedInto,
  };
}

export function eventSummary(e: IndexedEvent) {
  return {
    id: e.eventId,
    groupId: e.groupId,
    category: e.category,
    occurredAt: e.occurredAt,
    receivedAt: e.receivedAt,
    type: e.type,
    message: e.message,
    level: e.level,
    release: e.release,
    environment: e.environment,
    user: e.user,
  };
}

groupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/groups",
    request: {
      params: ProjectIdParam,
      query: PageQuery.extend({ status: GroupStatus.optional() }).extend(GroupFacetQuery.shape),
    },
    responses: {
      200: json(
        z.object({ groups: z.array(GroupSchema), next: z.string().nullable() }),
        "Groups, most recently seen first",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { limit = 50, cursor, status, environment, release } = c.req.valid("query");
    const cur = decodeCursor(cursor);
    if (cur === undefined) return c.json({ error: "cursor: invalid cursor" }, 400);
    const pid = Number(id);
    const rows = await drizzle(await metaDb(c.env, id))
      .select()
      .from(errorGroups)
      .where(
        and(
          eq(errorGroups.projectId, pid),
          status ? eq(errorGroups.status, status) : undefined,
          isNull(errorGroups.mergedInto),
          facetFilter(pid, { environment, release }),
          olderThan(cur, errorGroups.lastSeen, errorGroups.id),
        ),
      )
      .orderBy(desc(errorGroups.lastSeen), desc(errorGroups.id))
      .limit(limit + 1);
    const { items, next } = pageOf(rows, limit, (g) => ({ time: g.lastSeen, id: g.id }));
    return c.json({ groups: items.map(groupView), next }, 200);
  },
);

groupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/groups/{groupId}",
    request: { params: GroupParams },
    responses: { 200: json(GroupSchema, "One group"), ...errorResponses },
  }),
  async (c) => {
    const { id, groupId } = c.req.valid("param");
    const [g] = await drizzle(await metaDb(c.env, id))
      .select()
      .from(errorGroups)
      .where(and(eq(errorGroups.projectId, Number(id)), eq(errorGroups.id, groupId)))
      .limit(1);
    if (!g) return c.json({ error: "group not found" }, 404);
    return c.json(groupView(g), 200);
  },
);

groupRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/api/v1/projects/{id}/groups/{groupId}",
    request: {
      params: GroupParams,
      body: {
        content: { "application/json": { schema: GroupStatusPatch } },
        required: true,
      },
    },
    responses: { 200: json(GroupSchema, "The group after the change"), ...errorResponses },
  }),
  async (c) => {
    const { id, groupId } = c.req.valid("param");
    const { status, resolvedInRelease = null } = c.req.valid("json");
    const [g] = await drizzle(await metaDb(c.env, id))
      .update(errorGroups)
      .set({ status, ...resolvedInReleaseColumns(resolvedInRelease) })
      .where(and(eq(errorGroups.projectId, Number(id)), eq(errorGroups.id, groupId)))
      .returning();
    if (!g) return c.json({ error: "group not found" }, 404);
    return c.json(groupView(g), 200);
  },
);

groupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/groups/{groupId}/events",
    request: { params: GroupParams, query: PageQuery },
    responses: {
      200: json(
        z.object({ events: z.array(EventSummarySchema), next: z.string().nullable() }),
        "The group's events, newest first",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, groupId } = c.req.valid("param");
    const { limit = 50, cursor } = c.req.valid("query");
    // The project (an unknown one is a 404) and the groups merged into this one come from D1,
    // outside the try: only what the search backend throws is a cursor 400 or an index 503.
    const sources = await mergedSources(await metaDb(c.env, id), Number(id), groupId);
    const backend = createSearchBackend(c.env);
    try {
      // Keyset-paged by the backend (its own opaque cursor, checked there: a bad one is a 400).
      // A merge target also lists the events its merged groups had before the merge.
      const page = await mergedGroupEvents(backend, id, groupId, sources, { limit, cursor });
      return c.json({ events: page.events.map(eventSummary), next: page.next }, 200);
    } catch (err) {
      if (err instanceof ClientError) return c.json({ error: `cursor: ${err.message}` }, 400);
      console.warn(JSON.stringify({ msg: "event index failed", backend: backend.name, error: String(err) }));
      return c.json({ error: `event index (${backend.name}) unavailable, try again shortly` }, 503, {
        "Retry-After": "10",
      });
    }
  },
);

groupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/groups/{groupId}/histogram",
    request: {
      params: GroupParams,
      query: z.object({ days: z.coerce.number().int().min(1).max(90).optional() }),
    },
    responses: {
      200: json(
        z.object({ buckets: z.array(z.object({ t: z.string(), count: z.number() })) }),
        "Occurrences per hour (≤ 2 days) or per day",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, groupId } = c.req.valid("param");
    const { days = 14 } = c.req.valid("query");
    const step = days <= 2 ? 3600_000 : 86_400_000;
    const to = Date.now();
    const from = Math.floor((to - days * 86_400_000) / step) * step;
    const n = Math.floor((to - from) / step) + 1;
    const { times, counts } = await occurrences(await metaDb(c.env, id), id, [groupId], step, n, to);
    const series = counts.get(groupId) ?? [];
    return c.json({ buckets: times.map((t, i) => ({ t, count: series[i] ?? 0 })) }, 200);
  },
);
