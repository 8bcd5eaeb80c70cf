// Aggregates only the dashboard needs, one D1 query each: occurrence counts per time bucket for
// the sparklines of a whole page of groups (not one histogram call per group) and a group's chart,
// and a group's events broken down by release and environment.

import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { errorGroups, events } from "../../../shared/db/schema";

export const SPARK_HOURS = 24;

/**
 * Occurrences per bucket of `stepMs` for each group, the last `buckets` buckets up to now (oldest
 * first). The step is inlined as an SQL literal: bound JS numbers arrive as REAL, and REAL
 * division would not floor to the bucket.
 */
export async function occurrences(
  db: D1Database,
  projectId: string,
  groupIds: string[],
  stepMs: number,
  buckets: number,
  now = Date.now(),
): Promise<{ times: string[]; counts: Map<string, number[]> }> {
  const step = Math.floor(stepMs);
  const from = (Math.floor(now / step) - (buckets - 1)) * step;
  const times = Array.from({ length: buckets }, (_, i) => new Date(from + i * step).toISOString());
  const counts = new Map(groupIds.map((g) => [g, new Array<number>(buckets).fill(0)]));
  if (groupIds.length === 0) return { times, counts };
  const lit = sql.raw(String(step));
  const rows = await drizzle(db)
    .select({
      g: events.groupId,
      b: sql<number>`(${events.occurredAt} / ${lit}) * ${lit}`,
      n: sql<number>`count(*)`,
    })
    .from(events)
    .where(
      and(
        eq(events.projectId, Number(projectId)),
        inArray(events.groupId, groupIds),
        gte(events.occurredAt, from),
      ),
    )
    .groupBy(events.groupId, sql`2`);
  for (const r of rows) {
    const i = Math.floor((Number(r.b) - from) / step);
    const arr = r.g ? counts.get(r.g) : undefined;
    if (arr && i >= 0 && i < buckets) arr[i]! += Number(r.n);
  }
  return { times, counts };
}

/** Occurrences per hour over the last 24 h, per group id (oldest bucket first). */
export async function sparklines(db: D1Database, projectId: string, groupIds: string[]) {
  return (await occurrences(db, projectId, groupIds, 3600_000, SPARK_HOURS)).counts;
}

export interface ReleaseCount {
  release: string | null;
  environment: string | null;
  count: number;
  lastSeen: string;
}

/** A group's events per release and environment, most events first. */
export async function releaseBreakdown(
  db: D1Database,
  projectId: string,
  groupId: string,
): Promise<ReleaseCount[]> {
  const rows = await drizzle(db)
    .select({
      release: events.release,
      environment: events.environment,
      n: sql<number>`count(*)`,
      last: sql<number>`max(${events.occurredAt})`,
    })
    .from(events)
    .where(and(eq(events.projectId, Number(projectId)), eq(events.groupId, groupId)))
    .groupBy(events.release, events.environment)
    .orderBy(sql`3 desc`)
    .limit(20);
  return rows.map((r) => ({
    release: r.release,
    environment: r.environment,
    count: Number(r.n),
    lastSeen: new Date(Number(r.last)).toISOString(),
  }));
}

/** Type, message and status of some groups (the issues a search matched), by id. */
export async function groupTitles(
  db: D1Database,
  projectId: string,
  groupIds: string[],
): Promise<Map<string, { type: string | null; message: string; status: string }>> {
  if (groupIds.length === 0) return new Map();
  const rows = await drizzle(db)
    .select({
      id: errorGroups.id,
      type: errorGroups.type,
      message: errorGroups.message,
      status: errorGroups.status,
    })
    .from(errorGroups)
    .where(and(eq(errorGroups.projectId, Number(projectId)), inArray(errorGroups.id, groupIds)));
  return new Map(rows.map((r) => [r.id, r]));
}
