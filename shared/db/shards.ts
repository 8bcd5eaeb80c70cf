// Metadata shards: the control database (binding DB) holds projects, keys, settings, sessions and
// dead letters, and its `projects.shard` column says on which metadata shard each project's
// groups, group hours, outcomes, RUM and session minutes, pointer rows, attachments and message
// ledger live; each shard also holds the segment rows of its projects' share of each batch. The shards are the bindings DB_SHARD_0 … DB_SHARD_<N-1>: N is whatever is
// bound, so configuration is the bindings. With none bound the control database is the one shard
// (a small deployment, and the processor bench). Every database gets the same migrations.
//
// The pointer is read from the control database on every use (one primary-key probe), never
// cached: a project move (move-project.ts) flips it, and a stale cache would write to the old shard.

export type ShardEnv = { DB: D1Database };

const SHARD_BINDING = /^DB_SHARD_(\d+)$/;

/**
 * Whether a D1 error is a moved project's fence (migrations 0013 and 0014): the write read the
 * project's pointer before a move and met the shard it left. Nothing of it was written; the same
 * write made again reads the new pointer.
 */
export const isMoveFence = (err: unknown) =>
  /project moved off this metadata shard/.test(String((err as Error)?.message ?? err));

/** The metadata shards, index = shard number; the control database alone when none is bound. */
export function shardDbs(env: ShardEnv): D1Database[] {
  const found: D1Database[] = [];
  for (const [name, value] of Object.entries(env)) {
    const m = SHARD_BINDING.exec(name);
    if (m) found[Number(m[1])] = value as D1Database;
  }
  if (found.length === 0) return [env.DB];
  for (let i = 0; i < found.length; i++)
    if (!found[i])
      throw new Error(
        `metadata shards must be DB_SHARD_0..DB_SHARD_${found.length - 1}: DB_SHARD_${i} is missing`,
      );
  return found;
}

/** The database of shard `n`; a pointer past the bound shards is a configuration error, never a guess. */
export function shardDb(env: ShardEnv, n: number): D1Database {
  const dbs = shardDbs(env);
  const db = dbs[n];
  if (!db)
    throw new Error(
      `project on metadata shard ${n}, but only ${dbs.length} shard(s) are bound (DB_SHARD_<n>)`,
    );
  return db;
}

/** The shard of each project id the control database knows (unknown ids are absent). */
export async function projectShards(
  env: ShardEnv,
  projectIds: Iterable<string | number>,
): Promise<Map<string, number>> {
  const placements = await projectPlacements(env, projectIds);
  return new Map([...placements].map(([id, p]) => [id, p.shard]));
}

/** Where a project lives, and the shard it was last moved off (with when), if it ever moved. */
export interface Placement {
  shard: number;
  movedFrom: number | null;
  movedAt: number | null;
}

/** Each known project's placement (one query); unknown projects are absent. */
export async function projectPlacements(
  env: ShardEnv,
  projectIds: Iterable<string | number>,
): Promise<Map<string, Placement>> {
  const ids = [...new Set([...projectIds].map(Number).filter((n) => Number.isSafeInteger(n)))];
  if (ids.length === 0) return new Map();
  const rows = await env.DB.prepare(
    "SELECT id, shard, moved_from, moved_at FROM projects WHERE id IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(ids))
    .all<{ id: number; shard: number; moved_from: number | null; moved_at: number | null }>();
  return new Map(
    rows.results.map((r) => [String(r.id), { shard: r.shard, movedFrom: r.moved_from, movedAt: r.moved_at }]),
  );
}

/**
 * The metadata database of one project, or null when the control database does not know it.
 *
 * @example const db = await projectDb(c.env, id); if (!db) return c.json({ error: "project not found" }, 404);
 */
export async function projectDb(env: ShardEnv, projectId: string | number): Promise<D1Database | null> {
  const shard = (await projectShards(env, [projectId])).get(String(Number(projectId)));
  return shard === undefined ? null : shardDb(env, shard);
}

/** Where a new project goes: the shard with the fewest projects (ties: the lowest number). */
export async function placeNewProject(env: ShardEnv): Promise<number> {
  const n = shardDbs(env).length;
  if (n === 1) return 0;
  const rows = await env.DB.prepare("SELECT shard, count(*) AS n FROM projects GROUP BY shard").all<{
    shard: number;
    n: number;
  }>();
  const load = new Array<number>(n).fill(0);
  for (const r of rows.results) if (r.shard >= 0 && r.shard < n) load[r.shard] = r.n;
  return load.indexOf(Math.min(...load));
}
