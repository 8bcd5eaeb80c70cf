// Reads of the issue workflow the group routes share: the issue list's environment / release
// filters (group_facets, read by key) and a merge target's events, which include the events its
// merged groups had before the merge (their search documents keep their own group id).

import { z } from "@hono/zod-openapi";
import { type SQL, sql } from "drizzle-orm";
import { errorGroups } from "../../shared/db/schema";
import {
  type EventPage,
  encodeCursor,
  type IndexedEvent,
  type SearchBackend,
} from "../../shared/search/backend";

export const GroupFacetQuery = z.object({
  environment: z.string().max(64).optional().openapi({ description: "Only groups seen in this environment" }),
  release: z.string().max(200).optional().openapi({ description: "Only groups seen in this release" }),
});

/** Merged groups whose events a target's event list also reads (the most recently merged). */
export const MAX_MERGED_EVENT_SOURCES = 24;

/** The groups of the list that have events in the environment and/or release asked for. */
export function facetFilter(pid: number, q: { environment?: string; release?: string }): SQL | undefined {
  const parts: SQL[] = [];
  for (const [facet, value] of [
    ["environment", q.environment],
    ["release", q.release],
  ] as const)
    if (value)
      parts.push(sql`${errorGroups.id} IN (SELECT f.group_id FROM group_facets f
        WHERE f.project_id = ${pid} AND f.facet = ${facet} AND f.value = ${value})`);
  return parts.length === 0 ? undefined : sql.join(parts, sql` AND `);
}

/** Groups merged into `groupId` (newest merges first), by the redirects' target index. */
export async function mergedSources(db: D1Database, pid: number, groupId: string): Promise<string[]> {
  const rows = await db
    .prepare(
      `SELECT from_group AS g FROM group_redirects WHERE project_id = ? AND to_group = ?
       ORDER BY created_at DESC LIMIT ${MAX_MERGED_EVENT_SOURCES}`,
    )
    .bind(pid, groupId)
    .all<{ g: string }>();
  return rows.results.map((r) => r.g);
}

const newestFirst = (a: IndexedEvent, b: IndexedEvent) =>
  a.occurredAt === b.occurredAt
    ? a.eventId < b.eventId
      ? 1
      : a.eventId > b.eventId
        ? -1
        : 0
    : a.occurredAt < b.occurredAt
      ? 1
      : -1;

/**
 * A group's events, newest first, keyset-paged, together with those of the groups merged into
 * it (`sources`, from mergedSources): each group is read from the same cursor (both backends share
 * its encoding and order) and the pages are merged, so a page costs (1 + merged groups) × limit
 * reads at most. Only the search backend is read here.
 */
export async function mergedGroupEvents(
  backend: SearchBackend,
  projectId: string,
  groupId: string,
  sources: string[],
  page: { limit: number; cursor?: string },
): Promise<EventPage> {
  if (sources.length === 0) return backend.groupEvents(projectId, groupId, page);
  const pages = await Promise.all([groupId, ...sources].map((g) => backend.groupEvents(projectId, g, page)));
  const all = pages.flatMap((p) => p.events).sort(newestFirst);
  const events = all.slice(0, page.limit);
  const last = events[events.length - 1];
  const more = all.length > page.limit || pages.some((p) => p.next !== null);
  return {
    events,
    next: more && last ? encodeCursor({ at: Date.parse(last.occurredAt), id: last.eventId }) : null,
  };
}
