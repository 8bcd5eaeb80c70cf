// Aggregates the dashboard and the histogram route need, one D1 query each, all read from the
// group_hours aggregate (never per-event rows, so the rows read depend on the time range and the
// groups asked for, not on how many events they hold): occurrence counts per time bucket for the
// sparklines of a whole page of groups and a group's chart, and a group's release breakdown.

import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { errorGroups, groupHours } from "../../../shared/db/schema";

export const SPARK_HOURS = 24;

/**
 * Occurrences per bucket of `stepMs` (a multiple of an hour) for each group, the last `buckets`
 * buckets up to now (oldest first). The step is inlined as an SQL literal: bound JS numbers arrive
 * as REAL, and REAL division would not floor to the bucket.
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
      g: groupHours.groupId,
      b: sql<number>`(${groupHours.hour} / ${lit}) * ${lit}`,
      n: sql<number>`sum(${groupHours.count})`,
    })
    .from(groupHours)
    .where(
      and(
        eq(groupHours.projectId, Number(projectId)),
        inArray(groupHours.groupId, groupIds),
        gte(groupHours.hour, from),
      ),
    )
    .groupBy(groupHours.groupId, sql`2`);
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

/** A group's events per release and environment, most events first (over the retained hours). */
export async function releaseBreakdown(
  db: D1Database,
  projectId: string,
  groupId: string,
): Promise<ReleaseCount[]> {
  const rows = await drizzle(db)
    .select({
      release: groupHours.release,
      environment: groupHours.environment,
      n: sql<number>`sum(${groupHours.count})`,
      last: sql<number>`max(${groupHours.lastSeen})`,
    })
    .from(groupHours)
    .where(and(eq(groupHours.projectId, Number(projectId)), eq(groupHours.groupId, groupId)))
    .groupBy(groupHours.release, groupHours.environment)
    .orderBy(sql`3 desc`)
    .limit(20);
  // The aggregate keys "no release" as '' (a primary key column); the API says null.
  return rows.map((r) => ({
    release: r.release || null,
    environment: r.environment || null,
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
