// Merging groups (POST .../groups/merge): folds source groups into a target in ONE D1 transaction
// (count, first/last seen and the latest event, affected users, hourly histogram, facets,
// feedback), marks the sources merged (they leave the lists and point to the target) and records
// a redirect per source, which the processor follows for every later event of their fingerprints.
// Every statement acts only on sources not merged yet, so repeating a merge changes nothing.

import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { hllMergeSql } from "../../shared/hll";

/** Groups one request may fold into its target. */
export const MAX_MERGE_SOURCES = 20;
/** Redirects a project may hold (one per merged group): what the processor's look-up can meet. */
export const MAX_REDIRECTS = 10_000;

export type MergeOutcome =
  | { ok: true; merged: string[] }
  | { ok: false; status: 400 | 404 | 409; error: string };

const dialect = new SQLiteAsyncDialect();

/** Validates the request against the groups as stored, then merges; never a partial write. */
export async function mergeGroups(
  db: D1Database,
  projectId: number,
  into: string,
  groups: string[],
  now = Date.now(),
): Promise<MergeOutcome> {
  const sources = [...new Set(groups)];
  if (sources.includes(into))
    return { ok: false, status: 400, error: "groups: a group cannot be merged into itself" };
  if (sources.length > MAX_MERGE_SOURCES)
    return { ok: false, status: 400, error: `groups: at most ${MAX_MERGE_SOURCES} groups per merge` };
  const rows = (
    await db
      .prepare(
        `SELECT g.id AS id, g.merged_into AS mergedInto FROM json_each(?)
         CROSS JOIN error_groups g ON g.project_id = ? AND g.id = json_each.value`,
      )
      .bind(JSON.stringify([into, ...sources]), projectId)
      .all<{ id: string; mergedInto: string | null }>()
  ).results;
  const found = new Map(rows.map((r) => [r.id, r.mergedInto]));
  const unknown = [into, ...sources].filter((id) => !found.has(id));
  if (unknown.length > 0)
    return {
      ok: false,
      status: 404,
      error: `unknown group(s) in project ${projectId}: ${unknown.join(", ")}`,
    };
  const targetMerged = found.get(into);
  if (targetMerged)
    return {
      ok: false,
      status: 409,
      error: `into: group ${into} was itself merged into ${targetMerged}; merge into that group`,
    };
  const elsewhere = sources.find((id) => found.get(id) && found.get(id) !== into);
  if (elsewhere)
    return {
      ok: false,
      status: 409,
      error: `groups: group ${elsewhere} was already merged into ${found.get(elsewhere)}`,
    };
  const fresh = sources.filter((id) => !found.get(id));
  if (fresh.length === 0) return { ok: true, merged: [] };
  const held = await db
    .prepare("SELECT count(*) AS n FROM group_redirects WHERE project_id = ?")
    .bind(projectId)
    .first<{ n: number }>();
  if ((held?.n ?? 0) + fresh.length > MAX_REDIRECTS)
    return {
      ok: false,
      status: 400,
      error: `project ${projectId} already holds ${held?.n} merged groups (at most ${MAX_REDIRECTS})`,
    };
  const statements = mergeStatements(projectId, into, fresh, now).map((s) => {
    const q = dialect.sqlToQuery(s);
    return db.prepare(q.sql).bind(...q.params);
  });
  await db.batch(statements);
  return { ok: true, merged: fresh };
}

/** The merge as SQL, in order; `sources` are re-checked as unmerged inside the transaction. */
export function mergeStatements(pid: number, into: string, sources: string[], now: number): SQL[] {
  const list = JSON.stringify(sources);
  const unmerged = sql`(SELECT u.id FROM error_groups u WHERE u.project_id = ${pid}
    AND u.id IN (SELECT value FROM json_each(${list})) AND u.merged_into IS NULL)`;
  const latest = (col: string) =>
    sql`(SELECT ${sql.raw(`s.${col}`)} FROM error_groups s WHERE s.project_id = ${pid} AND s.id IN ${unmerged}
      ORDER BY s.last_seen DESC LIMIT 1)`;
  const newer = sql`coalesce(${latest("last_seen")}, 0) > last_seen`;
  const out: SQL[] = [
    sql`UPDATE error_groups SET
      count = count + (SELECT coalesce(sum(s.count), 0) FROM error_groups s WHERE s.project_id = ${pid} AND s.id IN ${unmerged}),
      first_seen = min(first_seen, coalesce((SELECT min(s.first_seen) FROM error_groups s WHERE s.project_id = ${pid} AND s.id IN ${unmerged}), first_seen)),
      last_event_id = CASE WHEN ${newer} THEN ${latest("last_event_id")} ELSE last_event_id END,
      last_release = CASE WHEN ${newer} THEN ${latest("last_release")} ELSE last_release END,
      message = CASE WHEN ${newer} THEN ${latest("message")} ELSE message END,
      last_seen = max(last_seen, coalesce(${latest("last_seen")}, 0))
    WHERE project_id = ${pid} AND id = ${into}`,
  ];
  // Affected users: the union of the sketches (register-wise max), one source at a time.
  for (const s of sources) {
    const theirs = sql`(SELECT s.users FROM error_groups s WHERE s.project_id = ${pid} AND s.id = ${s} AND s.merged_into IS NULL)`;
    out.push(
      sql`UPDATE error_groups SET users = ${hllMergeSql(sql`users`, theirs)} WHERE project_id = ${pid} AND id = ${into}`,
    );
  }
  out.push(
    // Facets from the sources' hours (the facets of a merged group itself are never read again).
    ...(["environment", "release"] as const).map(
      (facet) => sql`INSERT INTO group_facets (project_id, facet, value, group_id, last_seen)
      SELECT ${pid}, ${facet}, ${sql.raw(facet)}, ${into}, (max(hour) / 86400000) * 86400000 FROM group_hours
      WHERE project_id = ${pid} AND group_id IN ${unmerged} AND ${sql.raw(facet)} != ''
      GROUP BY ${sql.raw(facet)}
      ON CONFLICT (project_id, facet, value, group_id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    ),
    // The histogram: the sources' hours added to the target's, then removed (no double counting).
    sql`INSERT INTO group_hours (project_id, group_id, hour, release, environment, count, last_seen)
      SELECT project_id, ${into}, hour, release, environment, count, last_seen FROM group_hours
      WHERE project_id = ${pid} AND group_id IN ${unmerged}
      ON CONFLICT (project_id, group_id, hour, release, environment) DO UPDATE SET
        count = count + excluded.count, last_seen = max(last_seen, excluded.last_seen)`,
    sql`DELETE FROM group_hours WHERE project_id = ${pid} AND group_id IN ${unmerged}`,
    sql`UPDATE user_feedback INDEXED BY user_feedback_group SET group_id = ${into} WHERE project_id = ${pid} AND group_id IN ${unmerged}`,
    // Groups merged earlier into a source now go to the target, in one hop.
    sql`UPDATE group_redirects SET to_group = ${into} WHERE project_id = ${pid} AND to_group IN ${unmerged}`,
    sql`UPDATE error_groups SET merged_into = ${into} WHERE project_id = ${pid}
      AND id IN (SELECT from_group FROM group_redirects WHERE project_id = ${pid} AND to_group = ${into})
      AND merged_into IS NOT NULL AND merged_into != ${into}`,
    sql`INSERT INTO group_redirects (project_id, from_group, to_group, created_at)
      SELECT ${pid}, id, ${into}, ${now} FROM error_groups WHERE project_id = ${pid} AND id IN ${unmerged}
      ON CONFLICT (project_id, from_group) DO UPDATE SET to_group = excluded.to_group`,
    // Last: until here every statement saw the sources as unmerged.
    sql`UPDATE error_groups SET merged_into = ${into} WHERE project_id = ${pid} AND id IN ${unmerged}`,
  );
  return out;
}
