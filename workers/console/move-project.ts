// Moves a project's metadata to another shard (POST /api/v1/projects/{id}/shard, `npm run sluice
// -- projects:move`): flip the pointer in the control database (new batches write to the new shard
// from then on) and record the shard left (for the queue's retention the processor asks its ledger
// too, so a redelivery of a message applied there is still recognised and no ledger is copied),
// fence the other shards (a batch that read the old pointer and commits later is turned away and
// retried), then fold the project's rows from the old shard into the new one, chunk by chunk.
// Folding adds counters instead of overwriting, because batches that read the old pointer just
// before the flip may still land on either side. A chunk leaves its table for the old shard's
// outbox in one transaction, is copied to the new shard in one transaction guarded by a ledger row
// named after it, then leaves the outbox: a move stopped anywhere and run again counts nothing
// twice, even when late batches changed the project's rows on the old shard in between.
// docs/operating.md.
import { sql } from "drizzle-orm";
import { getTableConfig, SQLiteAsyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { foldAll } from "../../shared/db/group-fold";
import {
  attachments,
  errorGroups,
  events,
  groupFacets,
  groupHours,
  groupMinutes,
  groupRedirects,
  outcomes,
  rumPageMinutes,
  sessionMinutes,
  userFeedback,
} from "../../shared/db/schema";
import {
  isMoveFence,
  leftShardsAfterMove,
  type Placement,
  projectPlacements,
  type ShardEnv,
  shardDbs,
} from "../../shared/db/shards";
import { hllMergeSql } from "../../shared/hll";
import { ClientError } from "../../shared/http/errors";
import { BUCKET_COUNT } from "../../shared/rum/page-views";
import { D1CallBudget } from "../../shared/storage/d1-call-budget";
import { QUEUE_RETENTION_MS } from "../processor/queue-retention";

/**
 * Per-project tables of a metadata shard; counters are summed, times merged, the rest kept. Alert
 * cooldowns (alert_state) are not moved: they are keyed by rule, and losing one can at most repeat
 * a spike or frequency alert once.
 */
const TABLES: SQLiteTable[] = [
  errorGroups,
  groupHours,
  groupRedirects,
  groupFacets,
  groupMinutes,
  userFeedback,
  outcomes,
  rumPageMinutes,
  sessionMinutes,
  events,
  attachments,
];
/** The names of the tables a move carries over (what a test checks is left on the old shard). */
export const MOVED_TABLES: readonly string[] = TABLES.map((t) => getTableConfig(t).name);
const SUM = new Set([
  "count",
  "quantity",
  "views",
  "load_count",
  "load_sum_ms",
  "started",
  "exited",
  "errored",
  "crashed",
  "abnormal",
]);
const CHUNK = 200;
/**
 * D1 calls one move request makes at most. A Worker invocation may make 1,000, and a big project
 * (hundreds of thousands of aggregate rows, about four calls per chunk of 200) needs more: past the
 * limit every call fails mid-run. So a run stops itself at a chunk boundary once fewer than
 * CHUNK_CALLS (a chunk's calls and the lease's release) are left, as a stopped run, which the next
 * one resumes, and answers `done: false`; the CLI calls again until the move is done. Each request
 * repeats the fixed part of a run (fences, outboxes, empty tables: ~25 calls and ~15 per shard)
 * before it goes on. (The request's authentication takes a few more.)
 */
const MOVE_D1_CALLS = 900;
const CHUNK_CALLS = 10;
/** A shard's fold of the project's pending group deltas: up to 16 folds of 4 rounds each. */
const MAX_FOLDS = 16;
const FOLD_CALLS = 4 * 5 + 1;
/** Rounds per fold (each about 5 D1 calls): a fold of a busy shard's default 16 could take 80. */
const FOLD_ROUNDS = 4;

/** Thrown at a chunk boundary when the request's D1 budget is spent: the next request resumes. */
class MoveIncomplete extends Error {}

/**
 * An error group the new shard holds already was made there by a batch after the flip, so its
 * state is the default one: the moved row's workflow state wins, as the console last showed it. An
 * ignored group stays ignored; a resolved one was reopened by that batch's events (a regression at
 * its first), unless it was resolved in a release, which events of any release cannot be judged
 * against here, so it stays resolved. A group merged into another stays merged, and the affected
 * users of both rows are united.
 */
const RESOLVED_PLAIN = "excluded.status = 'resolved' AND excluded.resolved_release_key IS NULL";
const GROUP_STATE: Record<string, string> = {
  status: `status = CASE WHEN excluded.status = 'ignored' OR (excluded.status = 'resolved' AND excluded.resolved_release_key IS NOT NULL) THEN excluded.status ELSE status END`,
  regressed_at: `regressed_at = CASE WHEN ${RESOLVED_PLAIN} THEN first_seen ELSE coalesce(regressed_at, excluded.regressed_at) END`,
  resolved_in_release: `resolved_in_release = CASE WHEN excluded.status = 'resolved' THEN excluded.resolved_in_release ELSE resolved_in_release END`,
  resolved_release_key: `resolved_release_key = CASE WHEN excluded.status = 'resolved' THEN excluded.resolved_release_key ELSE resolved_release_key END`,
  merged_into: "merged_into = coalesce(merged_into, excluded.merged_into)",
};
const usersMerge = new SQLiteAsyncDialect().sqlToQuery(
  hllMergeSql(sql.raw("users"), sql.raw("excluded.users")),
);

function mergeSql(table: string, name: string): string | null {
  if (table === "error_groups") {
    if (GROUP_STATE[name]) return GROUP_STATE[name];
    if (name === "users") return `users = ${usersMerge.sql}`;
  }
  if (SUM.has(name)) return `${name} = ${name} + excluded.${name}`;
  if (name === "first_seen") return "first_seen = min(first_seen, excluded.first_seen)";
  if (name === "last_seen") return "last_seen = max(last_seen, excluded.last_seen)";
  if (name === "histogram")
    return `histogram = json_array(${Array.from({ length: BUCKET_COUNT }, (_, i) => `coalesce(histogram->>${i}, 0) + coalesce(excluded.histogram->>${i}, 0)`).join(", ")})`;
  return null;
}

/** How to write one table's rows into the target shard: its columns, key and merge clause. */
function tableShape(table: SQLiteTable) {
  const cfg = getTableConfig(table);
  const cols = cfg.columns.map((c) => c.name);
  const pk = cfg.primaryKeys[0]?.columns.map((c) => c.name) ?? cols.filter((_, i) => cfg.columns[i]!.primary);
  const updates = cols
    .filter((c) => !pk.includes(c))
    .map((c) => mergeSql(cfg.name, c))
    .filter((s): s is string => s != null);
  return {
    name: cfg.name,
    cols,
    pk,
    conflict: updates.length > 0 ? `DO UPDATE SET ${updates.join(", ")}` : "DO NOTHING",
    /** What the merge clause binds after the statement's own parameters. */
    params: cfg.name === "error_groups" ? usersMerge.params : [],
  };
}
const SHAPES = new Map(TABLES.map((t) => [getTableConfig(t).name, tableShape(t)]));

interface OutboxRow {
  id: string;
  to_shard: number;
  table_name: string;
  rows: string;
}

/**
 * Copies one outbox chunk into its target shard, then deletes it from the outbox. The copy is one
 * transaction that also writes a guard named after the chunk; only the run whose guard it is adds
 * the rows, so a chunk copied by a run that stopped before the delete is not added again.
 */
async function deliverChunk(
  from: D1Database,
  dbs: D1Database[],
  pid: number,
  chunk: OutboxRow,
  runId: string,
) {
  const shape = SHAPES.get(chunk.table_name);
  const to = dbs[chunk.to_shard];
  if (!shape || !to) throw new Error(`move outbox chunk ${chunk.id}: unknown table or shard`);
  const guardId = `move:${pid}:${chunk.id}`;
  await to.batch([
    to
      .prepare(
        "INSERT INTO message_ledger (id, batch_id, applied_at, ids) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      )
      // The guard names the project as a ledger entry does (`…@<project>`), so the fence of a shard
      // the project left turns away a delivery there: a run that stalled past its lease and was
      // taken over cannot add a chunk to a shard the run that took over has fenced.
      .bind(guardId, runId, Date.now(), JSON.stringify([`move@${pid}`])),
    to
      .prepare(
        `INSERT INTO ${shape.name} (${shape.cols.join(", ")})
         SELECT ${shape.cols.map((c) => `j.value->>'${c}'`).join(", ")}
         FROM json_each(?) j CROSS JOIN message_ledger l ON l.id = ? AND l.batch_id = ?
         WHERE true ON CONFLICT (${shape.pk.join(", ")}) ${shape.conflict}`,
      )
      .bind(chunk.rows, guardId, runId, ...shape.params),
  ]);
  await from.prepare("DELETE FROM move_outbox WHERE id = ?").bind(chunk.id).run();
}

/**
 * Finishes every chunk a stopped run left in `from`'s outbox. A chunk whose guard is on the shard
 * it was bound for got there (that shard is swept like any other): it only leaves the outbox. One
 * that did not is bound anew for this run's target first, then delivered there: the shard it was
 * bound for may be fenced by now (this run fences every shard but its target), and with the new
 * binding recorded, a run stopped after this delivery finds the guard where the chunk says.
 */
async function drainOutbox(
  from: D1Database,
  dbs: D1Database[],
  pid: number,
  to: number,
  runId: string,
  lease: Lease,
): Promise<number> {
  let rows = 0;
  for (;;) {
    const chunks = (
      await from
        .prepare(
          "SELECT id, to_shard, table_name, rows FROM move_outbox WHERE project_id = ? ORDER BY created_at, id LIMIT 20",
        )
        .bind(pid)
        .all<OutboxRow>()
    ).results;
    if (chunks.length === 0) return rows;
    for (const chunk of chunks) {
      await lease.keep();
      const bound = dbs[chunk.to_shard];
      if (!bound) throw new Error(`move outbox chunk ${chunk.id}: unknown shard ${chunk.to_shard}`);
      const arrived = await bound
        .prepare("SELECT 1 AS x FROM message_ledger WHERE id = ?")
        .bind(`move:${pid}:${chunk.id}`)
        .first();
      if (arrived) {
        await from.prepare("DELETE FROM move_outbox WHERE id = ?").bind(chunk.id).run();
        continue;
      }
      if (chunk.to_shard !== to)
        await from.prepare("UPDATE move_outbox SET to_shard = ? WHERE id = ?").bind(to, chunk.id).run();
      await deliverChunk(from, dbs, pid, { ...chunk, to_shard: to }, runId);
      const n = (JSON.parse(chunk.rows) as unknown[]).length;
      rows += n;
      lease.tally.rowsMoved += n;
    }
  }
}

/**
 * Moves a table's rows of project `pid` from `from` to shard `to`, a chunk at a time: each chunk
 * leaves its table for the outbox in one transaction (its content is fixed from then on; a late
 * batch's counts land in a fresh row, taken by a later chunk), then is delivered.
 */
async function foldTable(
  table: SQLiteTable,
  pid: number,
  from: D1Database,
  dbs: D1Database[],
  to: number,
  runId: string,
  lease: Lease,
) {
  const shape = SHAPES.get(getTableConfig(table).name)!;
  const key = shape.pk.join(", ");
  const chunkOf = `SELECT ${key} FROM ${shape.name} WHERE project_id = ? ORDER BY ${key} LIMIT ${CHUNK}`;
  let moved = 0;
  for (;;) {
    await lease.keep();
    const id = crypto.randomUUID();
    // The chunk is bound for the target this shard's fence names, which must be this run's: every
    // shard a run sweeps it fenced towards its target, so another target there means another run
    // took the project over (and NULL, failing the NOT NULL, rolls the chunk's transaction back).
    const [staged] = await from
      .batch([
        from
          .prepare(
            `INSERT INTO move_outbox (id, project_id, to_shard, table_name, rows, created_at)
             SELECT ?, ?, (SELECT to_shard FROM departed_projects WHERE project_id = ? AND to_shard = ?), ?,
               json_group_array(json_object(${shape.cols.map((c) => `'${c}', ${c}`).join(", ")})), ?
             FROM ${shape.name} WHERE (${key}) IN (${chunkOf}) HAVING count(*) > 0
             RETURNING id, to_shard, table_name, rows`,
          )
          .bind(id, pid, pid, to, shape.name, Date.now(), pid),
        from.prepare(`DELETE FROM ${shape.name} WHERE (${key}) IN (${chunkOf})`).bind(pid),
      ])
      .catch((err: unknown) => {
        if (/NOT NULL constraint failed: move_outbox\.to_shard/.test(String(err))) throw lostProject(pid);
        throw err;
      });
    const chunk = (staged?.results as OutboxRow[] | undefined)?.[0];
    if (!chunk) return moved;
    await deliverChunk(from, dbs, pid, chunk, runId);
    const n = (JSON.parse(chunk.rows) as unknown[]).length;
    moved += n;
    lease.tally.rowsMoved += n;
  }
}

export interface MoveReport {
  from: number;
  to: number;
  /** Rows this request moved. */
  rowsMoved: number;
  /** False when the request stopped at its D1 budget: call again to go on. */
  done: boolean;
  /** D1 calls this request's move made (at most MOVE_D1_CALLS, or the d1Calls given). */
  d1Calls: number;
}

/**
 * Moves project `id` to shard `to`. Towards the shard it is on already, it finishes what a stopped
 * run left: fences, outboxes, the other shards' rows.
 */
export async function moveProject(
  rawEnv: ShardEnv,
  id: number,
  to: number,
  { d1Calls = MOVE_D1_CALLS }: { d1Calls?: number } = {},
): Promise<MoveReport> {
  const budget = new D1CallBudget(d1Calls);
  const env = budget.wrapEnv(rawEnv);
  const dbs = shardDbs(env);
  if (!Number.isInteger(to) || to < 0 || to >= dbs.length)
    throw new ClientError(
      400,
      `shard: must be 0..${dbs.length - 1} (${dbs.length} metadata shard(s) bound)`,
      "invalid",
    );
  const exists = await env.DB.prepare("SELECT 1 AS x FROM projects WHERE id = ?").bind(id).first();
  if (!exists) throw new ClientError(404, "project not found", "not_found");
  const runId = crypto.randomUUID();
  const lease = await takeLease(env.DB, id, runId, budget);
  let from = to;
  try {
    // Read once held: a run that ended just before would otherwise leave this one a stale pointer.
    const row = (await projectPlacements(env, [id])).get(String(id))!;
    from = row.shard;
    await moveHeld(env, dbs, id, to, row, runId, lease);
    return { from, to, ...lease.tally, done: true, d1Calls: budget.used };
  } catch (err) {
    // Stopped at a chunk boundary to stay within the invocation's D1 calls: the next request goes on.
    if (err instanceof MoveIncomplete) return { from, to, ...lease.tally, done: false, d1Calls: budget.used };
    // The fence turned one of this run's own writes away: not the "retry" (503) the console gives
    // other writes that met a fence, but a run that lost its project.
    if (isMoveFence(err))
      throw new Error(
        `move of project ${id}: a shard fenced this run's write (another run took the project over?)`,
        {
          cause: err,
        },
      );
    throw err;
  } finally {
    await env.DB.prepare(
      "UPDATE projects SET move_run = NULL, move_until = NULL WHERE id = ? AND move_run = ?",
    )
      .bind(id, runId)
      .run();
  }
}

/** How long a run holds its project without renewing: far longer than a chunk takes. */
const LEASE_MS = 10 * 60_000;

interface Lease {
  /**
   * Renews the hold (at most once a minute unless forced); throws once another run holds it, or
   * MoveIncomplete once fewer than `calls` D1 calls are left to this request (a chunk's worth).
   */
  keep(force?: boolean, calls?: number): Promise<void>;
  /** What this request did so far. */
  tally: { rowsMoved: number };
  /** D1 calls this request may still make. */
  callsLeft(): number;
}

/** What a run that lost its project (it stalled past its lease and another took over) throws. */
const lostProject = (id: number) =>
  new Error(`move of project ${id}: another run took it over; this one stops`);

/**
 * The project for this run alone (projects.move_run), or a 409 while another run holds it. `keep`
 * renews the hold, at most once a minute, and fails when the run lost it, before the run writes
 * anything more.
 */
async function takeLease(db: D1Database, id: number, runId: string, budget: D1CallBudget): Promise<Lease> {
  const now = Date.now();
  const took = await db
    .prepare(
      "UPDATE projects SET move_run = ?, move_until = ? WHERE id = ? AND (move_run IS NULL OR move_until < ?)",
    )
    .bind(runId, now + LEASE_MS, id, now)
    .run();
  if (!took.meta.changes)
    throw new ClientError(
      409,
      "another move of this project is running; run this one when it ends",
      "conflict",
    );
  let renewed = now;
  return {
    tally: { rowsMoved: 0 },
    callsLeft: () => budget.left(),
    async keep(force = false, calls = CHUNK_CALLS) {
      if (!budget.has(calls)) throw new MoveIncomplete();
      if (!force && Date.now() - renewed < 60_000) return;
      const r = await db
        .prepare("UPDATE projects SET move_until = ? WHERE id = ? AND move_run = ?")
        .bind(Date.now() + LEASE_MS, id, runId)
        .run();
      if (!r.meta.changes) throw lostProject(id);
      renewed = Date.now();
    },
  };
}

async function moveHeld(
  env: ShardEnv,
  dbs: D1Database[],
  id: number,
  to: number,
  row: Placement,
  runId: string,
  lease: Lease,
): Promise<void> {
  /**
   * Writes a fence while this run holds the project. A run that stalled between its lease check and
   * the write, and was taken over meanwhile, could fence the shard the project now lives on (every
   * batch of it turned away for a day) or overwrite the fence the run that took over put there: the
   * lease is checked again after the write and, if it was lost, the fence found there before (read
   * in the write's transaction) is put back, unless another run's fence has replaced this one since.
   */
  const guardedFence = async (s: number, toShard: number, at: number) => {
    const db = dbs[s]!;
    await lease.keep(true);
    const [before] = await db.batch([
      db.prepare("SELECT to_shard, departed_at FROM departed_projects WHERE project_id = ?").bind(id),
      db
        .prepare(
          `INSERT INTO departed_projects (project_id, to_shard, departed_at) VALUES (?, ?, ?)
           ON CONFLICT (project_id) DO UPDATE SET to_shard = excluded.to_shard, departed_at = excluded.departed_at`,
        )
        .bind(id, toShard, at),
    ]);
    try {
      await lease.keep(true);
    } catch (err) {
      const prev = (before?.results as { to_shard: number; departed_at: number }[] | undefined)?.[0];
      const mine = "project_id = ? AND to_shard = ? AND departed_at = ?";
      await (prev
        ? db
            .prepare(`UPDATE departed_projects SET to_shard = ?, departed_at = ? WHERE ${mine}`)
            .bind(prev.to_shard, prev.departed_at, id, toShard, at)
        : db.prepare(`DELETE FROM departed_projects WHERE ${mine}`).bind(id, toShard, at)
      )
        .run()
        .catch(() => {});
      throw err;
    }
  };
  const fence = (s: number) => guardedFence(s, to, Date.now());
  // Shards the pointer names neither now nor after this run are fenced before the flip: a batch
  // holding a pointer older than a stopped run's flip can no longer write there.
  for (let s = 0; s < dbs.length; s++) if (s !== to && s !== row.shard) await fence(s);
  if (row.shard !== to) {
    // A project moving back to a shard it left: that shard's fence goes before batches read the new
    // pointer. Restored if this run stops before the flip, so that a batch still holding a pointer
    // to it stays turned away.
    const unfenced = await dbs[to]!.prepare(
      "DELETE FROM departed_projects WHERE project_id = ? RETURNING to_shard, departed_at",
    )
      .bind(id)
      .first<{ to_shard: number; departed_at: number }>();
    try {
      // The shard left is recorded with the flip: for the queue's retention the processor asks its
      // ledger too (and those of the shards left before), so no ledger is copied, whatever its size.
      // Only while this run holds the project: the flip and the fences below are its alone.
      const now = Date.now();
      const left = leftShardsAfterMove(row.left, row.shard, to, now, QUEUE_RETENTION_MS);
      const flipped = await env.DB.prepare(
        `UPDATE projects SET shard = ?, left_shards = ?, moved_from = ?, moved_at = ?, updated_at = ?
         WHERE id = ? AND move_run = ?`,
      )
        .bind(to, left, row.shard, now, now, id, runId)
        .run();
      if (!flipped.meta.changes) throw lostProject(id);
    } catch (err) {
      // Put back only while this run still holds the project: a run that took it over decides the
      // fences from here on (it may have moved the project to this very shard).
      if (unfenced) await guardedFence(to, unfenced.to_shard, unfenced.departed_at).catch(() => {});
      throw err;
    }
  }
  // Then the shard the pointer named is fenced too, before it is swept: a batch that read the old
  // pointer either committed there before the fence (the sweep below finds its rows) or is turned
  // away by it and retried towards the new shard. So one sweep leaves nothing behind, however late
  // such a batch is.
  if (row.shard !== to) await fence(row.shard);
  // Chunks a stopped run left in an outbox go first.
  for (const db of dbs) await drainOutbox(db, dbs, id, to, runId, lease);
  // Every other shard, not only the old pointer's: a move that stopped half way resumes when run again.
  for (let s = 0; s < dbs.length; s++) {
    if (s === to) continue;
    // Counts still waiting in the shard's group deltas land in its rows first, then move with them.
    // All of the project's: the shard is fenced, so none come after, and one the fold left (its
    // rows moved) would be folded into a group row written again here, where nothing reads it.
    // Up to 16 folds, as many as this request's calls allow (a fold is at most FOLD_CALLS calls).
    const folds = Math.min(MAX_FOLDS, Math.floor((lease.callsLeft() - CHUNK_CALLS) / FOLD_CALLS));
    if (folds < 1) throw new MoveIncomplete();
    if (!(await foldAll(dbs[s]!, { projectId: id, maxFolds: folds, maxRounds: FOLD_ROUNDS })).drained) {
      if (folds < MAX_FOLDS) throw new MoveIncomplete();
      throw new Error(`metadata shard ${s} still holds group deltas of project ${id}; run the move again`);
    }
    for (const t of TABLES) await foldTable(t, id, dbs[s]!, dbs, to, runId, lease);
  }
  // Every outbox is empty now, but the guards stay: a run that stalled past its lease between
  // staging a chunk and delivering it (and was taken over by one towards the same shard, which
  // delivered the chunk) may still wake and deliver it; the guard turns that second copy away.
  // Retention prunes them a day later, once no outbox of the project holds a chunk (pruneMoveGuards).
}
