// Folds a metadata shard's group_deltas (one row per processor batch: workers/processor/group-writes.ts)
// into error_groups and group_hours: the deltas are summed in memory, each group and each group ×
// hour × release × environment is upserted once, and the folded deltas are deleted, all in ONE
// transaction. The processor folds when a shard's backlog is old or long enough (foldDue); every
// reader of group counts (console, alerts, retention, project moves) folds first, so nobody reads
// a count that leaves out an accepted event.
//
// Two folds racing over the same deltas: each claims them by moving group_fold.through past them
// (only if it is still below them) in its own transaction, and every write of the fold is
// conditioned on holding that claim, so the loser writes nothing. Deltas are already
// ledger-guarded, so a fold never needs the ledger.

import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { Hll, hllMergeSql, mergeSparse } from "../hll";
import { jsonChunks } from "../json-chunks";

/** A shard's deltas are folded once this many are pending, or once the oldest is this old. */
export const FOLD_MAX_PENDING = 16;
export const FOLD_DEFAULT_MS = 30_000;
/** Deltas read per fold round, and the JSON a round may hold (a delta is ≤ ~1 MB, most ~50 KB). */
const DELTAS_PER_ROUND = 16;
const FOLD_ROUND_BYTES = 2_000_000;

/** The group a merged group's counts go to (group_redirects), else the group itself. */
export const redirectTarget = (p: SQL, g: SQL) =>
  sql`coalesce((SELECT r.to_group FROM group_redirects r WHERE r.project_id = ${p} AND r.from_group = ${g}), ${g})`;

/**
 * Writes the row of each group in `chunk` (JSON of a batch's group entries: p, g, f, ver, type, msg,
 * culprit, level, platform, first, last, lastId, release) that the shard has none of, with count 0
 * (counts arrive with the fold), at its redirect target, where `where` holds over `d`; `more` adds
 * columns to `d`. The processor writes a batch's new groups with it, and the fold a group whose row
 * went away before its delta was folded.
 */
export const insertGroupRows = (chunk: string, where: SQL, more: SQL = sql``) =>
  sql`INSERT INTO error_groups (project_id, id, fingerprint, grouping_version, type, message, culprit,
      level, platform, status, count, first_seen, last_seen, last_event_id, last_release)
    SELECT d.p, d.t, d.f, d.ver, d.type, d.msg, d.culprit, d.level, d.platform, 'active', 0, d.first, d.last,
      d.lastId, d.release
    FROM (SELECT g.value->>'p' AS p, ${redirectTarget(sql`g.value->>'p'`, sql`g.value->>'g'`)} AS t,
            g.value->>'f' AS f, g.value->>'ver' AS ver, g.value->>'type' AS type, g.value->>'msg' AS msg,
            g.value->>'culprit' AS culprit, g.value->>'level' AS level, g.value->>'platform' AS platform,
            g.value->>'first' AS first, g.value->>'last' AS last, g.value->>'lastId' AS lastId,
            g.value->>'release' AS release${more}
          FROM json_each(${chunk}) AS g) d
    WHERE ${where}
    ON CONFLICT (project_id, id) DO NOTHING`;

/** `GROUP_FOLD_MS` (a var): how long counts may wait for a fold; "0" folds after every batch. */
export function foldAfterMs(env: { GROUP_FOLD_MS?: string }): number {
  const n = Number(env.GROUP_FOLD_MS);
  return env.GROUP_FOLD_MS !== undefined && env.GROUP_FOLD_MS !== "" && Number.isFinite(n) && n >= 0
    ? n
    : FOLD_DEFAULT_MS;
}

export function foldDue(backlog: { pending: number; oldest: number }, now: number, afterMs: number): boolean {
  return afterMs === 0 || backlog.pending >= FOLD_MAX_PENDING || now - backlog.oldest >= afterMs;
}

/**
 * A group's share of the deltas: what adds up (the group row itself was written at once), and what
 * the fold writes should it find no row (absent from deltas written before they carried it).
 */
interface GroupSum {
  p: number;
  g: string;
  f?: string;
  ver?: number;
  type?: string | null;
  culprit?: string | null;
  level?: string;
  platform?: string | null;
  msg: string;
  first: number;
  last: number;
  lastId: string;
  release: string | null;
  n: number;
  sketch?: Hll;
}

interface DeltaGroup extends Omit<GroupSum, "sketch"> {
  uu?: unknown;
}

type HourRow = [number, string, number, string, string, number, number];

/** The deltas' sums: one entry per group and one per group × hour × release × environment. */
export function sumDeltas(
  deltas: { groups: string; hours: string }[],
  /** Where a merged group's counts go (group_redirects, read by the fold); identity when absent. */
  target: (projectId: number, groupId: string) => string = (_p, g) => g,
) {
  const groups = new Map<string, GroupSum>();
  const hours = new Map<string, HourRow>();
  for (const d of deltas) {
    for (const x of JSON.parse(d.groups) as DeltaGroup[]) {
      x.g = target(Number(x.p), x.g);
      const key = `${x.p}\u0000${x.g}`;
      const n = Number(x.n);
      let g = groups.get(key);
      if (!g) {
        const { uu: _uu, ...rest } = x;
        g = { ...rest, n: 0 };
        groups.set(key, g);
      } else {
        if (x.first < g.first) g.first = x.first;
        if (x.last >= g.last) {
          g.last = x.last;
          g.lastId = x.lastId;
          g.release = x.release;
          g.msg = x.msg;
        }
      }
      g.n += n;
      if (Array.isArray(x.uu) && x.uu.length > 0) mergeSparse((g.sketch ??= new Hll()), x.uu);
    }
    for (const h of JSON.parse(d.hours) as HourRow[]) {
      h[1] = target(Number(h[0]), h[1]);
      const key = `${h[0]}\u0000${h[1]}\u0000${h[2]}\u0000${h[3]}\u0000${h[4]}`;
      const cur = hours.get(key);
      if (!cur) hours.set(key, [Number(h[0]), h[1], Number(h[2]), h[3], h[4], Number(h[5]), Number(h[6])]);
      else {
        cur[5] += Number(h[5]);
        if (Number(h[6]) > cur[6]) cur[6] = Number(h[6]);
      }
    }
  }
  return {
    groups: [...groups.values()].map(({ sketch, ...g }) => ({
      ...g,
      u: sketch ? sketch.encode() : null,
      o: null as string | null,
    })),
    hours: [...hours.values()],
  };
}

const dialect = new SQLiteAsyncDialect();
const prepare = (db: D1Database, s: SQL) => {
  const q = dialect.sqlToQuery(s);
  return db.prepare(q.sql).bind(...q.params);
};

/**
 * Where merged groups went (group_redirects, one primary-key read per ≤ 500 KB of keys): the
 * processor applies it to a batch's events, the fold to its deltas, so that a source and its
 * target count as one group. A merge after this read is still caught by redirectTarget in SQL.
 * @returns `(projectId, groupId) → the group its counts go to` (itself when not merged)
 */
export async function readRedirects(
  db: D1Database,
  groups: Iterable<[number, string]>,
): Promise<(projectId: number, groupId: string) => string> {
  const keys = new Set<string>();
  for (const [p, g] of groups) keys.add(JSON.stringify([Number(p), g]));
  const to = new Map<string, string>();
  for (const chunk of jsonChunks([...keys].map((k) => JSON.parse(k) as [number, string]))) {
    const rows = await db
      .prepare(
        `SELECT j.value->>0 AS p, j.value->>1 AS f, r.to_group AS t FROM json_each(?) j
         CROSS JOIN group_redirects r ON r.project_id = j.value->>0 AND r.from_group = j.value->>1`,
      )
      .bind(chunk)
      .all<{ p: number; f: string; t: string }>();
    for (const r of rows.results) to.set(`${r.p}\u0000${r.f}`, r.t);
  }
  return (p, g) => to.get(`${Number(p)}\u0000${g}`) ?? g;
}

/** The projects and groups a fold's deltas name. */
function* deltaGroups(deltas: { groups: string }[]): Generator<[number, string]> {
  for (const d of deltas)
    for (const x of JSON.parse(d.groups) as { p: number; g: string }[]) yield [x.p, x.g];
}

/**
 * Merges each group's stored users sketch into its delta sketch here, so the update writes the
 * union (`u`) and D1 walks the 1,024 registers itself only if another fold changed the stored
 * sketch (`o`) in between: a register walk in SQL bills a row read per register.
 */
async function mergeStoredUsers(
  db: D1Database,
  groups: { p: number; g: string; u: string | null; o?: string | null }[],
) {
  const withUsers = groups.filter((g) => g.u);
  const stored = new Map<string, string | null>();
  for (const chunk of jsonChunks(withUsers.map((g) => [Number(g.p), g.g]))) {
    const rows = await db
      .prepare(
        `SELECT j.value->>0 AS p, j.value->>1 AS g, e.users AS u FROM json_each(?) j
         CROSS JOIN error_groups e ON e.project_id = j.value->>0 AND e.id = j.value->>1`,
      )
      .bind(chunk)
      .all<{ p: number; g: string; u: string | null }>();
    for (const r of rows.results) stored.set(`${r.p}\u0000${r.g}`, r.u);
  }
  for (const g of withUsers) {
    const o = stored.get(`${g.p}\u0000${g.g}`) ?? null;
    const merged = Hll.decode(o);
    merged.merge(Hll.decode(g.u));
    g.u = merged.encode();
    g.o = o;
  }
}

export interface FoldResult {
  deltas: number;
  rowsWritten: number;
}

/** Folds the shard's pending deltas in rounds of ≤ 16 deltas and ≤ 2 MB of JSON; safe to run concurrently. */
export async function foldGroupDeltas(db: D1Database, maxRounds = 16): Promise<FoldResult> {
  const total: FoldResult = { deltas: 0, rowsWritten: 0 };
  for (let round = 0; round < maxRounds; round++) {
    // The oldest deltas, as many as fit in FOLD_ROUND_BYTES (at least one): bounds the fold's memory.
    const sizes = await db
      .prepare(
        `SELECT id, length(groups) + length(hours) AS size FROM group_deltas WHERE id > 0 ORDER BY id LIMIT ${DELTAS_PER_ROUND}`,
      )
      .all<{ id: number; size: number }>();
    if (sizes.results.length === 0) break;
    let take = 0;
    for (let bytes = 0; take < sizes.results.length; take++) {
      bytes += sizes.results[take]!.size;
      if (take > 0 && bytes > FOLD_ROUND_BYTES) break;
    }
    const { results } = await db
      .prepare("SELECT id, groups, hours FROM group_deltas WHERE id >= ? AND id <= ? ORDER BY id")
      .bind(sizes.results[0]!.id, sizes.results[take - 1]!.id)
      .all<{ id: number; groups: string; hours: string }>();
    if (results.length === 0) break;
    const min = results[0]!.id;
    const max = results[results.length - 1]!.id;
    const token = crypto.randomUUID();
    const held = sql`EXISTS (SELECT 1 FROM group_fold WHERE id = 1 AND token = ${token})`;
    const sums = sumDeltas(results, await readRedirects(db, deltaGroups(results)));
    await mergeStoredUsers(db, sums.groups);
    const statements: SQL[] = [
      sql`INSERT INTO group_fold (id, token, through) VALUES (1, ${token}, ${max})
        ON CONFLICT (id) DO UPDATE SET token = excluded.token, through = excluded.through
        WHERE group_fold.through < ${min}`,
    ];
    // The batch that made a delta wrote its new groups' rows in the same transaction, but a row can
    // be gone by the fold: retention deleted a dormant group as a fresh event of it came in. The
    // delta's events still count: the row is written again from the delta. (A project move does
    // not leave such a delta behind: it fences the old shard, folds until no delta is left, and
    // only then moves the rows.)
    // SET expressions read the row as it was, so last_seen comparisons see the stored time.
    for (const chunk of jsonChunks(sums.groups)) {
      // (Deltas written before they carried the group's identity have none to write it from.)
      statements.push(
        insertGroupRows(
          chunk,
          sql`d.f IS NOT NULL AND d.ver IS NOT NULL AND d.level IS NOT NULL AND ${held}`,
        ),
      );
      statements.push(sql`UPDATE error_groups SET
          count = count + d.n,
          first_seen = min(first_seen, d.first),
          last_seen = max(last_seen, d.last),
          last_event_id = CASE WHEN d.last >= last_seen THEN d.lastId ELSE last_event_id END,
          last_release = CASE WHEN d.last >= last_seen THEN d.release ELSE last_release END,
          message = CASE WHEN d.last >= last_seen THEN d.msg ELSE message END,
          users = CASE WHEN d.u IS NULL THEN users WHEN users IS d.o THEN d.u
            ELSE ${hllMergeSql(sql`error_groups.users`, sql`d.u`)} END
        FROM (SELECT g.value->>'p' AS p, ${redirectTarget(sql`g.value->>'p'`, sql`g.value->>'g'`)} AS t,
                g.value->>'msg' AS msg, g.value->>'first' AS first, g.value->>'last' AS last,
                g.value->>'lastId' AS lastId, g.value->>'release' AS release, g.value->>'n' AS n,
                g.value->>'u' AS u, g.value->>'o' AS o
              FROM json_each(${chunk}) AS g) d
        WHERE error_groups.project_id = d.p AND error_groups.id = d.t AND ${held}`);
    }
    for (const chunk of jsonChunks(sums.hours))
      statements.push(sql`INSERT INTO group_hours (project_id, group_id, hour, release, environment, count, last_seen)
        SELECT d.value->>0, ${redirectTarget(sql`d.value->>0`, sql`d.value->>1`)}, d.value->>2, d.value->>3, d.value->>4,
          d.value->>5, d.value->>6
        FROM json_each(${chunk}) d
        WHERE ${held}
        ON CONFLICT (project_id, group_id, hour, release, environment) DO UPDATE SET
          count = count + excluded.count, last_seen = max(last_seen, excluded.last_seen)`);
    statements.push(sql`DELETE FROM group_deltas WHERE id >= ${min} AND id <= ${max} AND ${held}`);
    const out = await db.batch(statements.map((s) => prepare(db, s)));
    const claimed = (out[0]?.meta?.changes ?? 0) > 0;
    for (const r of out) total.rowsWritten += r?.meta?.rows_written ?? 0;
    if (!claimed) break; // another fold holds these deltas; it applies them
    total.deltas += results.length;
    if (take === sizes.results.length && take < DELTAS_PER_ROUND) break;
  }
  return total;
}

/** Whether the shard has a delta waiting for a fold (one indexed probe). */
const hasPending = async (db: D1Database) =>
  (await db.prepare("SELECT 1 AS x FROM group_deltas WHERE id > 0 LIMIT 1").first<{ x: number }>()) !== null;

/** Folds first if the shard has pending deltas (one indexed probe when it has none). */
export async function foldIfPending(db: D1Database): Promise<FoldResult | null> {
  return (await hasPending(db)) ? foldGroupDeltas(db) : null;
}

/** Pending deltas `pendingProjects` reads at most; past that it answers "any project may be pending". */
const PENDING_READ = 64;

/**
 * The projects with a delta waiting for a fold, from one bounded read of the oldest pending deltas:
 * `"unknown"` when more are pending than that read takes: every project may then be waiting, so
 * retention postpones judging its groups and a move folds on (which only costs folds).
 */
export async function pendingProjects(db: D1Database): Promise<Set<number> | "unknown"> {
  const { results } = await db
    .prepare(
      `WITH d AS (SELECT groups, hours FROM group_deltas WHERE id > 0 ORDER BY id LIMIT ${PENDING_READ + 1})
       SELECT CAST(g.value->>'p' AS INTEGER) AS p FROM d, json_each(d.groups) AS g
       UNION SELECT CAST(h.value->>0 AS INTEGER) FROM d, json_each(d.hours) AS h
       UNION SELECT -1 FROM (SELECT count(*) AS n FROM d) WHERE n > ${PENDING_READ}`,
    )
    .all<{ p: number }>();
  const ids = new Set(results.map((r) => r.p));
  return ids.has(-1) ? "unknown" : ids;
}

/**
 * Folds until no delta is pending (bounded): before a move or a retention pass reads the rows.
 * With `projectId`, until none of that project's is (a busy shard always has other projects'
 * deltas coming in; a move has fenced its project, so no more of its own come). A fold that lost
 * its claim folded nothing, yet deltas may still wait: the fold that won had committed (claim and
 * writes are one transaction) the deltas it had read, and any written after its read are still
 * there. So this looks again rather than stopping at a fold of nothing. Each fold takes at most
 * `maxRounds` rounds (about 5 D1 calls each: a caller with a call budget bounds both). Returns the
 * deltas folded here and whether none (of the project) is left.
 */
export async function foldAll(
  db: D1Database,
  {
    projectId,
    maxFolds = 64,
    maxRounds = 16,
  }: { projectId?: number; maxFolds?: number; maxRounds?: number } = {},
): Promise<{ deltas: number; drained: boolean }> {
  const pending = async () => {
    if (projectId === undefined) return hasPending(db);
    const waiting = await pendingProjects(db);
    return waiting === "unknown" || waiting.has(projectId);
  };
  let deltas = 0;
  for (let i = 0; i < maxFolds; i++) {
    if (!(await pending())) return { deltas, drained: true };
    deltas += (await foldGroupDeltas(db, maxRounds)).deltas;
  }
  return { deltas, drained: !(await pending()) };
}
