// Metadata shards: the control database (binding DB) holds projects, keys, settings, sessions and
// dead letters, and its `projects.shard` column says on which metadata shard each project's
// groups, group hours, outcomes, RUM and session minutes, pointer rows, attachments and message
// ledger live; each shard also holds the segment rows of the batches whose keys hash to it (segmentHome). The shards are the bindings DB_SHARD_0 … DB_SHARD_<N-1>: N is whatever is
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

/** Where a project lives, and the shards it left (with when), if it ever moved. */
export interface Placement {
  shard: number;
  /** Shard number → when the project left it (ms): every shard it left, as far as recorded. */
  left: Map<number, number>;
}

/**
 * The shards a project left, from its `left_shards` JSON (`{"<shard>": <ms>}`), or from the single
 * `moved_from`/`moved_at` pair a move before that column wrote. Malformed entries are skipped.
 */
export function shardsLeft(
  leftShards: string | null,
  movedFrom: number | null,
  movedAt: number | null,
): Map<number, number> {
  const left = new Map<number, number>();
  if (leftShards !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(leftShards);
    } catch {
      parsed = null;
    }
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      for (const [k, at] of Object.entries(parsed))
        if (/^\d+$/.test(k) && typeof at === "number" && Number.isFinite(at)) left.set(Number(k), at);
    return left;
  }
  if (movedFrom !== null && movedAt !== null) left.set(movedFrom, movedAt);
  return left;
}

/**
 * `left_shards` after a move from `from` to `to` at `now`: `from` is added (or its time renewed),
 * `to` removed (the project lives there again), and entries older than `keepMs` dropped (the
 * queue can no longer redeliver a message sent before them), so it holds at most one per shard.
 */
export function leftShardsAfterMove(
  left: Map<number, number>,
  from: number,
  to: number,
  now: number,
  keepMs: number,
): string {
  const next: Record<string, number> = {};
  for (const [s, at] of left) if (s !== to && s !== from && now - at <= keepMs) next[String(s)] = at;
  if (from !== to) next[String(from)] = now;
  return JSON.stringify(next);
}

/** Each known project's placement (one query); unknown projects are absent. */
export async function projectPlacements(
  env: ShardEnv,
  projectIds: Iterable<string | number>,
): Promise<Map<string, Placement>> {
  const ids = [...new Set([...projectIds].map(Number).filter((n) => Number.isSafeInteger(n)))];
  if (ids.length === 0) return new Map();
  const rows = await env.DB.prepare(
    "SELECT id, shard, left_shards, moved_from, moved_at FROM projects WHERE id IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(ids))
    .all<{
      id: number;
      shard: number;
      left_shards: string | null;
      moved_from: number | null;
      moved_at: number | null;
    }>();
  return new Map(
    rows.results.map((r) => [
      String(r.id),
      { shard: r.shard, left: shardsLeft(r.left_shards, r.moved_from, r.moved_at) },
    ]),
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
