// Retention (the processor's cron): deletes what each project no longer keeps, without scanning
// all data. Work is driven by the segments table (one row per processor batch, indexed by the
// time its first share expires): a due segment names the projects it holds items of and their pointer rows, deleted by
// primary key, and the R2 object goes once no project still keeps any of its events. Aggregates
// (group hours included) are deleted by primary-key range, attachments and search documents (the
// event index) per project. Groups keep their lifetime counts (Sentry's "times seen"); a group
// none of whose events remain is deleted. The message ledger is pruned once the queue can no
// longer redeliver its messages. Dead letters (D1 rows and the R2 fallback) follow their project's
// retention too. Projects and dead letters are in the control database; segment rows (one per
// batch, on a home shard), pointer rows, attachments, aggregates and each ledger on the metadata shards. The orphan sweep (./orphan-sweep.ts) covers every other R2 prefix Sluice writes.
//
// Every run does a bounded amount of work (segment pages, delete chunks: the constants below) and
// the next run continues where it stopped. That includes D1 calls: an invocation may make 1,000, so
// a run counts its own (shared/storage/d1-call-budget.ts) and shares them out: the ledger first,
// then segment pages, then projects, visited in id order from where the last run stopped (a
// project whose deletes were cut short is visited first next time), and a reserve for the sweeps
// at the end. Projects are visited in pages whose deletes share one D1 batch per shard (a light
// visit: expirePage), so a call serves many projects and a run reaches hundreds; one with more to
// delete than a light visit takes gets a full visit of its own (expireProject). A step that fails
// is logged and recorded in the report's `errors`, and the run goes on with the next step and the
// next project: one failing search backend or shard never keeps the ledger, the fences or the
// other projects from being pruned.

import { foldAll, foldGroupDeltas, pendingProjects } from "../../shared/db/group-fold";
import { shardDb, shardDbs } from "../../shared/db/shards";
import { timeHex } from "../../shared/ids";
import { createSearchBackend, type SearchEnv } from "../../shared/search";
import { readSettings } from "../../shared/settings";
import { expireBundles, sweepChunks } from "../../shared/sourcemaps/store";
import { D1CallBudget } from "../../shared/storage/d1-call-budget";
import { cursorUpsert, loadCursor, walkPrefix } from "../../shared/storage/sweep-cursor";
import { alertDeliveryDelete, alertRulesOf, alertShardDeletes, expireAlertData } from "./alert-retention";
import { DEAD_LETTER_PREFIX, UNOWNED_DEAD_LETTER_DAYS } from "./dead-letters";
import { orphanSweepCalls, sweepOrphans } from "./orphan-sweep";
import { QUEUE_RETENTION_DAYS, QUEUE_RETENTION_MS } from "./queue-retention";
import { parseSegmentContents, type SegmentContents } from "./segment-contents";

export interface RetentionEnv extends SearchEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
}

export interface RetentionReport {
  segmentsExamined: number;
  segmentsDeleted: number;
  /** Items whose share of a segment expired (their records go with the R2 object). */
  eventsDeleted: number;
  /** D1 pointer rows deleted with them (items without a search document: segment-contents.ts). */
  pointerRowsDeleted: number;
  attachmentsDeleted: number;
  groupsDeleted: number;
  searchDocsDeleted: number;
  orphansDeleted: number;
  ledgerPruned: number;
  /** Fences of project moves (departed_projects) no batch in flight can need any more. */
  fencesPruned: number;
  deadLettersDeleted: number;
  /** Source-map bundles past their project's retention, and chunks never assembled. */
  artifactsDeleted: number;
  /** Projects whose data this run looked at (a run visits as many as its D1 budget allows). */
  projectsVisited: number;
  /** D1 calls the run made (at most limits.d1Calls). */
  d1Calls: number;
  /** Steps that failed this run ("<step>: <error>"); the others ran. Empty when all went well. */
  errors: string[];
}

/** Bounds of one run (tests lower them). */
export interface RetentionLimits {
  /** Segment rows read per query. */
  segmentPage: number;
  /** Bytes of segment contents per page: a page ends at the row that passes it. */
  segmentBytes: number;
  /** Pages per run over every lane (each shard's due rows, and the walks after a lowered retention). */
  segmentPages: number;
  /** Wall time the segment pass may take per run (ms); the page under way finishes. */
  segmentMs: number;
  /** D1 calls a run may make (an invocation may make 1,000; the cron's feedback relink uses ≤ 210). */
  d1Calls: number;
}

const DAY = 86_400_000;
/**
 * The processor writes one segment row per batch (≥ 86,400 a day at one batch a second), each read
 * about once, when due. A page of 250 rows costs a read, a write batch and pointer-row batches (rows
 * written before one row per batch also ask the other shards: at most 2 calls per shard and three
 * more), so with 4 shards the pass gets at least ~30 pages (7,500 rows) of the budget before it
 * leaves the rest to the projects, and about 60 (15,000 rows) once those older rows are gone. The
 * time budget keeps a run with slow calls from overlapping the next one. Capacity at volume:
 * docs/operating.md.
 */
export const DEFAULT_LIMITS: RetentionLimits = {
  segmentPage: 250,
  segmentBytes: 4_000_000,
  segmentPages: 60,
  segmentMs: 120_000,
  d1Calls: 700,
};
/** Rows per dead-letter DELETE, rounds of them a run, and R2 fallback keys looked at a run. */
const DEAD_LETTER_CHUNK = 5000;
const DEAD_LETTER_ROUNDS = 4;
const DEAD_LETTER_KEYS_PER_RUN = 10_000;
/**
 * D1 calls kept for the steps after the projects: dead letters (their rounds, and the fallback
 * walk's cursor: 2), chunk sweep (2), orphan sweeps.
 */
const tailCalls = (shards: number) => DEAD_LETTER_ROUNDS + 2 + 2 + orphanSweepCalls(shards);
/** D1 calls a project's full visit may take at most (chunks stop early when the budget runs low). */
const PROJECT_CALLS = 40;
/** Projects per light visit (expirePage): their statements share one D1 batch per metadata shard. */
const PAGE_PROJECTS = 25;
/** Rows per statement of a light visit: a project with more to delete than that gets a full visit. */
const LIGHT_CHUNK = 500;
/** Fold rounds a light visit tries when a project of its page waits for one (≤ 5 D1 calls each). */
const FOLD_ROUNDS = 4;
const FOLD_CALLS = FOLD_ROUNDS * 5;
/**
 * D1 calls a light visit of a page takes at most besides a fold: alert rules and deliveries, the
 * search documents (one batch with the embedded index) and the bundle probe, and per shard the
 * pending probe, its recheck after a fold and the batch; plus a few for the bundles it finds.
 */
const pageCalls = (shards: number) => 4 + 3 * shards + 4;
/** Share of the budget the ledger may use, and the share the segment pass leaves for projects. */
const LEDGER_SHARE = 0.3;
const PROJECT_SHARE = 0.35;
/** Source-map bundles deleted per project visit (each a few D1 calls). */
const BUNDLES_PER_VISIT = 5;
/**
 * sweep_cursors row (control database): the project id the next run's rotation starts at, and the
 * projects it visits in full first (JSON `{"next": id | null, "retry": [id, …]}`; a bare id before).
 */
const PROJECTS_CURSOR = "retention:projects";
/** Projects kept for a full visit by the next run; more wait for the rotation to come back. */
const MAX_RETRIES = 100;

/** The saved rotation cursor and retry list; a bare id (the cursor before the list) or "" as well. */
export function projectsCursor(saved: string): { next: number | undefined; retry: number[] } {
  if (!saved.startsWith("{")) {
    const n = Number(saved);
    return { next: saved !== "" && Number.isSafeInteger(n) ? n : undefined, retry: [] };
  }
  try {
    const v = JSON.parse(saved) as { next?: unknown; retry?: unknown };
    return {
      next: typeof v.next === "number" && Number.isSafeInteger(v.next) ? v.next : undefined,
      retry: Array.isArray(v.retry) ? v.retry.filter((x): x is number => Number.isSafeInteger(x)) : [],
    };
  } catch {
    return { next: undefined, retry: [] };
  }
}
/** Retention of a project the control database no longer knows (its segment shares still expire). */
const UNKNOWN_PROJECT_DAYS = 90;
/** No redelivery after the queue's retention: ledger rows older than that can go. */
export const LEDGER_DAYS = QUEUE_RETENTION_DAYS;
const LEDGER_DELETE_CHUNK = 5000;
/**
 * Rows per DELETE of a project's expired rows, and chunks per table and project per run: the first
 * run after a retention drop may have millions of rows to delete, and one statement deleting them
 * all would run past D1's 30-second query limit; the rest goes in the next runs.
 */
const DELETE_CHUNK = 5000;
const DELETE_CHUNKS_PER_RUN = 20;
/** R2's delete takes at most 1,000 keys per call. */
const R2_DELETE_MAX = 1000;
/**
 * A move's fence (departed_projects) turns away batches that read the project's pointer before
 * the move. The processor reads the pointer per batch, never caching it, and a queue consumer runs
 * at most 15 minutes, so after a day no batch can hold that pointer; the fence goes, so that the
 * trigger checking it on every ledger insert never has more than a day of moves to look at.
 */
export const FENCE_DAYS = 1;

export async function runRetention(
  rawEnv: RetentionEnv,
  now = Date.now(),
  overrides: Partial<RetentionLimits> = {},
): Promise<RetentionReport> {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  const budget = new D1CallBudget(limits.d1Calls);
  const env = budget.wrapEnv(rawEnv);
  const report: RetentionReport = {
    segmentsExamined: 0,
    segmentsDeleted: 0,
    eventsDeleted: 0,
    pointerRowsDeleted: 0,
    attachmentsDeleted: 0,
    groupsDeleted: 0,
    searchDocsDeleted: 0,
    orphansDeleted: 0,
    ledgerPruned: 0,
    fencesPruned: 0,
    deadLettersDeleted: 0,
    artifactsDeleted: 0,
    projectsVisited: 0,
    d1Calls: 0,
    errors: [],
  };
  /** Runs one step; a failure is logged and recorded, and the run goes on. */
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      const error = String((err as Error)?.message ?? err);
      report.errors.push(`${name}: ${error}`);
      console.error(JSON.stringify({ msg: "retention step failed", step: name, error }));
    }
  };

  // 0. The ledger and the move fences first, shard by shard: they depend on nothing else, and a
  // failing later step must never leave them to grow.
  const shards = shardDbs(env);
  // Kept for the sweeps at the end (step 3), whatever the steps before them find to do.
  budget.reserved = tailCalls(shards.length);
  // The move fences first, with each shard's move outbox read in the same call: the projects some
  // outbox holds a chunk of keep their move guards (moveGuardDelete).
  const moving = new Set<number>();
  let outboxesRead = 0;
  for (const [i, db] of shards.entries()) {
    await step(`fences shard ${i}`, async () => {
      const [fences, outbox] = await db.batch([
        db.prepare("DELETE FROM departed_projects WHERE departed_at < ?").bind(now - FENCE_DAYS * DAY),
        db.prepare("SELECT DISTINCT project_id AS p FROM move_outbox"),
      ]);
      report.fencesPruned += fences!.meta.changes ?? 0;
      for (const r of outbox!.results as { p: number }[]) moving.add(r.p);
      outboxesRead++;
    });
  }
  for (const [i, db] of shards.entries()) {
    await step(`ledger shard ${i}`, async () => {
      const chunks = Math.max(1, Math.floor((limits.d1Calls * LEDGER_SHARE) / shards.length));
      // The move guards go in the call of the ledger's first chunk, once every outbox was read.
      const guards = outboxesRead === shards.length ? moveGuardDelete(db, moving, now) : undefined;
      report.ledgerPruned += await pruneLedger(db, now, chunks, guards);
    });
  }

  const projects = (
    await env.DB.prepare("SELECT id, settings, shard FROM projects").all<{
      id: number;
      settings: string;
      shard: number;
    }>()
  ).results;
  const shardOf = new Map(projects.map((p) => [String(p.id), p.shard]));
  // A project the control database no longer knows kept its rows where shard 0 would be.
  const dbOf = (projectId: string) => shardDb(env, shardOf.get(projectId) ?? 0);
  const retention = new Map(projects.map((p) => [String(p.id), readSettings(p.settings).retentionDays]));
  if (retention.size === 0) return report;
  const daysOf = (projectId: string) => retention.get(projectId) ?? UNKNOWN_PROJECT_DAYS;

  // 1. Segments whose share of some project expired, shard by shard (each batch's row is on the
  // shard its key hashes to).
  await step("segments", () => expireSegments(env, shards, now, daysOf, dbOf, limits, budget, report, step));

  // 2. Per project: attachments, aggregates, groups with no events left, alert data, search
  // documents, source-map bundles; in id order from where the last run stopped, while the budget
  // lasts (see the header).
  const search = createSearchBackend(env);
  const ids = projects.map((p) => p.id).sort((a, b) => a - b);
  await step("projects", async () => {
    const saved = projectsCursor(await loadCursor(env.DB, PROJECTS_CURSOR));
    const start = saved.next ?? ids[0];
    const from = start === undefined ? -1 : ids.findIndex((id) => id >= start);
    const order = from <= 0 ? ids : [...ids.slice(from), ...ids.slice(0, from)];
    const known = new Set(ids);
    // Projects a light visit could not finish, to be visited in full again: first those a run
    // before left, then this run's. They are kept apart from the rotation's cursor, so that a
    // project that is never finished (a busy one always has group deltas waiting, say) costs its
    // full visit each run without stopping the rotation at it.
    const retry: number[] = [];
    let next: number | undefined; // the first project this run had no budget for
    const due = (pid: number): Due => ({
      pid,
      shard: shardOf.get(String(pid)) ?? 0,
      cutoff: now - daysOf(String(pid)) * DAY,
    });
    const fullVisit = async (d: Due) => {
      const finished =
        budget.has(PROJECT_CALLS) &&
        (await expireProject(env, d.pid, shardDb(env, d.shard), d.cutoff, now, budget, search, report, step));
      if (!finished && !retry.includes(d.pid)) retry.push(d.pid);
    };
    // The retries first, with at most a third of what is left for projects: the rest is the rotation's.
    const retryUntil = budget.used + Math.floor(budget.left() / 3);
    for (const pid of saved.retry) {
      if (!known.has(pid)) continue;
      if (budget.used + PROJECT_CALLS > retryUntil || !budget.has(PROJECT_CALLS)) retry.push(pid);
      else {
        report.projectsVisited++;
        await fullVisit(due(pid));
      }
    }
    for (let at = 0; at < order.length && next === undefined; at += PAGE_PROJECTS) {
      const page = order.slice(at, at + PAGE_PROJECTS).map(due);
      if (!budget.has(pageCalls(new Set(page.map((d) => d.shard)).size))) {
        next = page[0]!.pid;
        break;
      }
      report.projectsVisited += page.length;
      const unfinished = await expirePage(env, page, now, budget, search, report, step);
      // Projects with more to delete than a light visit takes: a full visit each, while the budget
      // lasts; those left unfinished are retried first by the next run.
      for (const d of page) if (unfinished.has(d.pid)) await fullVisit(d);
    }
    // No `next`: every project was visited, and the next run starts over.
    await cursorUpsert(
      env.DB,
      PROJECTS_CURSOR,
      JSON.stringify({ next: next ?? null, retry: retry.slice(0, MAX_RETRIES) }),
      now,
    ).run();
  });

  // 3. Dead letters, then every R2 object nothing refers to any more: the calls kept for them.
  budget.reserved = 0;
  await step("dead letters", async () => {
    report.deadLettersDeleted = await expireDeadLetters(env, now, retention);
  });
  await step("artifact chunks", async () => {
    report.artifactsDeleted += await sweepChunks(env, now);
  });
  await step("orphans", async () => {
    report.orphansDeleted = await sweepOrphans(env, now);
  });
  report.d1Calls = budget.used;
  return report;
}

/** Whether the budget still allows another chunk of a project's deletes. */
const anotherChunk = (budget: D1CallBudget) => budget.has(4);

/** A project's expired attachment rows, `limit` at a time, returning their R2 keys. */
const attachmentDelete = (db: D1Database, pid: number, cutoff: number, limit: number) =>
  db
    .prepare(`DELETE FROM attachments WHERE (project_id, event_id, name) IN (SELECT project_id, event_id, name
      FROM attachments WHERE project_id = ? AND created_at < ? LIMIT ${limit}) RETURNING blob_key`)
    .bind(pid, cutoff);

/**
 * A project's expired aggregate rows, one statement per table, `limit` rows each: every one walks
 * the table's primary key from the project's prefix. Groups are judged only when `groups` is set
 * (no delta of the project waits for a fold: pending deltas carry last_seen and hours).
 */
function aggregateDeletes(
  db: D1Database,
  pid: number,
  cutoff: number,
  groups: boolean,
  limit: number,
): { table: string; stmt: D1PreparedStatement }[] {
  const pk = "project_id, ";
  const tables: [table: string, key: string, where: string, before: number][] = [
    ...(groups
      ? [["error_groups", `${pk}id`, "last_seen < ?", cutoff] as [string, string, string, number]]
      : []),
    ["outcomes", `${pk}minute, category, outcome, reason`, "minute < ?", cutoff],
    ["rum_page_minutes", `${pk}page, minute`, "minute < ?", cutoff],
    ["session_minutes", `${pk}release, environment, minute`, "minute < ?", cutoff],
    // Issue workflow (group-workflow.ts): facets are day-coarse, so a whole day past the cutoff.
    ["group_facets", `${pk}facet, value, group_id`, "last_seen < ?", cutoff - DAY],
    ["user_feedback", `${pk}id`, "created_at < ?", cutoff],
    // Whole hours only: an hour still partly inside the retention keeps its count.
    ["group_hours", `${pk}group_id, hour, release, environment`, "hour <= ?", cutoff - 3600_000],
  ];
  return tables.map(([table, key, where, before]) => ({
    table,
    stmt: db
      .prepare(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE project_id = ? AND ${where}
        LIMIT ${limit}) RETURNING 1 AS x`)
      .bind(pid, before),
  }));
}

/** A project due for a visit: its id, metadata shard and the time before which its data goes. */
interface Due {
  pid: number;
  shard: number;
  cutoff: number;
}

/**
 * A light visit of a page of projects: what a steady-state run finds for each (a few minutes of
 * aggregates, a few attachments, minute counts) is deleted by statements of the whole page that
 * share one batch per metadata shard, so a visit costs a fraction of a D1 call instead of ~9 and a
 * run reaches hundreds of projects. Each statement deletes at most LIGHT_CHUNK rows; a project
 * where one was full (a backlog: a retention just lowered, a long outage) or whose groups could not
 * be judged is returned, for a full visit (expireProject) of its own.
 */
async function expirePage(
  env: RetentionEnv,
  page: Due[],
  now: number,
  budget: D1CallBudget,
  search: ReturnType<typeof createSearchBackend>,
  report: RetentionReport,
  step: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<Set<number>> {
  const unfinished = new Set<number>();
  const ids = page.map((d) => d.pid);
  const name = `projects ${ids[0]}..${ids[ids.length - 1]}`;
  let rules = new Map<number, string[]>();
  await step(`alert deliveries of ${name}`, async () => {
    rules = await alertRulesOf(env.DB, ids);
    const deletes = page.flatMap(
      (d) => alertDeliveryDelete(env.DB, d.pid, rules.get(d.pid) ?? [], d.cutoff) ?? [],
    );
    if (deletes.length > 0) await env.DB.batch(deletes);
  });
  const byShard = new Map<number, Due[]>();
  for (const d of page) byShard.set(d.shard, [...(byShard.get(d.shard) ?? []), d]);
  for (const [shard, due] of byShard) {
    await step(`shard ${shard} share of ${name}`, async () => {
      const db = shardDb(env, shard);
      // Groups are judged once no delta of theirs waits for a fold; one fold is tried if some does.
      let pending = await pendingProjects(db);
      const waits = (pid: number) => pending === "unknown" || pending.has(pid);
      if (due.some((d) => waits(d.pid)) && budget.has(FOLD_CALLS + 2)) {
        await foldGroupDeltas(db, FOLD_ROUNDS);
        pending = await pendingProjects(db);
      }
      const stmts: { pid: number; table: string; stmt: D1PreparedStatement }[] = [];
      for (const { pid, cutoff } of due) {
        if (waits(pid)) unfinished.add(pid);
        stmts.push({ pid, table: "attachments", stmt: attachmentDelete(db, pid, cutoff, LIGHT_CHUNK) });
        for (const a of aggregateDeletes(db, pid, cutoff, !waits(pid), LIGHT_CHUNK))
          stmts.push({ pid, ...a });
        for (const stmt of alertShardDeletes(db, pid, rules.get(pid) ?? [], now))
          stmts.push({ pid, table: "alerts", stmt });
      }
      const results = await db.batch<{ blob_key?: string }>(stmts.map((s) => s.stmt));
      const blobKeys: string[] = [];
      for (const [i, r] of results.entries()) {
        const { pid, table } = stmts[i]!;
        if (table === "alerts") continue;
        const n = r.results.length;
        if (n === LIGHT_CHUNK) unfinished.add(pid);
        if (table === "error_groups") report.groupsDeleted += n;
        if (table === "attachments") {
          report.attachmentsDeleted += n;
          for (const row of r.results) blobKeys.push(row.blob_key!);
        }
      }
      // Rows first, then their objects: a run stopped in between leaves objects no row refers to,
      // which the orphan sweep (sweepPrefix) deletes.
      await deleteObjects(env.BLOBS, blobKeys);
    });
  }
  await step(`search documents of ${name}`, async () => {
    // One chunk per project in one round trip (a D1 batch, or one Elasticsearch delete-by-query);
    // a project that may have more left gets its full visit.
    const { deleted, unfinished: left } = await search.deleteOlderThanMany(
      page.map((d) => ({ projectId: String(d.pid), cutoffMs: d.cutoff })),
    );
    report.searchDocsDeleted += deleted;
    for (const id of left) unfinished.add(Number(id));
  });
  await step(`artifact bundles of ${name}`, async () => {
    // Which projects have a bundle past their retention: one query for the page.
    const { results } = await env.DB.prepare(
      `SELECT c.value->>0 AS p FROM json_each(?) AS c WHERE EXISTS (SELECT 1 FROM artifact_bundles AS b
         WHERE b.project_id = c.value->>0 AND b.created_at < c.value->>1)`,
    )
      .bind(JSON.stringify(page.map((d) => [d.pid, d.cutoff])))
      .all<{ p: number }>();
    const cutoff = new Map(page.map((d) => [d.pid, d.cutoff]));
    for (const { p } of results) {
      if (!anotherChunk(budget)) {
        unfinished.add(p);
        continue;
      }
      const n = await expireBundles(env, () => cutoff.get(p)!, [String(p)], BUNDLES_PER_VISIT);
      report.artifactsDeleted += n;
      if (n === BUNDLES_PER_VISIT) unfinished.add(p);
    }
  });
  return unfinished;
}

/**
 * One project's full visit: its attachments, aggregates (groups with no events left), alert data,
 * search documents and source-map bundles past its retention, in chunks of DELETE_CHUNK rows.
 * Returns false when something was left for a later run (a chunk limit or the budget), so that
 * the next run starts with this project.
 */
async function expireProject(
  env: RetentionEnv,
  pid: number,
  db: D1Database,
  cutoff: number,
  now: number,
  budget: D1CallBudget,
  search: ReturnType<typeof createSearchBackend>,
  report: RetentionReport,
  step: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<boolean> {
  let finished = true;
  await step(`attachments of ${pid}`, async () => {
    // Rows first, then their objects: a run stopped in between leaves objects no row refers to,
    // which the orphan sweep (sweepPrefix) deletes.
    const stmt = attachmentDelete(db, pid, cutoff, R2_DELETE_MAX);
    for (let i = 0; ; i++) {
      if (i === DELETE_CHUNKS_PER_RUN || !anotherChunk(budget)) {
        finished = false;
        break;
      }
      const expired = (await stmt.all<{ blob_key: string }>()).results;
      await deleteObjects(
        env.BLOBS,
        expired.map((a) => a.blob_key),
      );
      report.attachmentsDeleted += expired.length;
      if (expired.length < R2_DELETE_MAX) break;
    }
  });
  await step(`aggregates of ${pid}`, async () => {
    // Pending group deltas carry last_seen and hours: fold them before judging which groups expired.
    // Folds not drained in this visit's share: groups wait for the next visit, the rest goes now.
    // One fold of at most FOLD_ROUNDS rounds (FOLD_CALLS calls): a busy shard's default fold
    // (16 rounds, three times over) could take most of a run's budget on one project.
    const { drained } = budget.has(FOLD_CALLS + 2)
      ? await foldAll(db, { projectId: pid, maxFolds: 1, maxRounds: FOLD_ROUNDS })
      : { drained: false };
    if (!drained) finished = false;
    // One batch per round, one chunk of each table still holding expired rows.
    let open = aggregateDeletes(db, pid, cutoff, drained, DELETE_CHUNK);
    for (let round = 0; open.length > 0; round++) {
      if (round === DELETE_CHUNKS_PER_RUN || !anotherChunk(budget)) {
        finished = false;
        break;
      }
      const results = await db.batch(open.map((t) => t.stmt));
      const full = new Set<string>();
      for (const [i, r] of results.entries()) {
        const n = r.results.length;
        if (open[i]!.table === "error_groups") report.groupsDeleted += n;
        if (n === DELETE_CHUNK) full.add(open[i]!.table);
      }
      open = open.filter((t) => full.has(t.table));
    }
  });
  await step(`alert data of ${pid}`, () => expireAlertData(env.DB, db, pid, cutoff, now));
  await step(`search documents of ${pid}`, async () => {
    // A chunk is one D1 query with the embedded index (one search request with Elasticsearch).
    const chunks = Math.min(DELETE_CHUNKS_PER_RUN, Math.max(1, budget.left() - 8));
    const { deleted, done } = await search.deleteOlderThan(String(pid), cutoff, chunks);
    report.searchDocsDeleted += deleted;
    if (!done) finished = false;
  });
  await step(`artifact bundles of ${pid}`, async () => {
    const n = await expireBundles(env, () => cutoff, [String(pid)], BUNDLES_PER_VISIT);
    report.artifactsDeleted += n;
    if (n === BUNDLES_PER_VISIT) finished = false;
  });
  return finished;
}

/** Deletes R2 objects, at most R2_DELETE_MAX keys per call (R2's limit). */
async function deleteObjects(blobs: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += R2_DELETE_MAX) await blobs.delete(keys.slice(i, i + R2_DELETE_MAX));
}

interface SegmentRow {
  key: string;
  created_at: number;
  expires_at: number;
  contents: string;
  shards: string | null;
}

/** Position of a walk: the last row done, in (created_at, key) order. */
type Cursor = [createdAt: number, key: string];
const START: Cursor = [Number.MIN_SAFE_INTEGER, ""];
/**
 * sweep_cursors rows on each shard: a walk after a retention was lowered to `days` (JSON
 * `{"c": cursor, "until": ms}`), and on shard 0 the lane the next run's pages start at.
 */
const WALK_PREFIX = "retention:segments:walk:";
const ROTATION_PREFIX = "retention:segments:next-lane";
/** Control-database sweep_cursors rows `retention:restart:<days>`: a retention was lowered to `days`. */
const RESTART_PREFIX = "retention:restart:";
/**
 * How long after a retention was lowered a processor may still write a row with the longer one:
 * the edge's cached policy travels with each item, and an item may wait in its queue that long.
 */
const STALE_POLICY_MS = QUEUE_RETENTION_MS + DAY;

/**
 * A page of segment rows: `inner` (ordered by `order`, LIMITed) cut once their contents pass
 * `bytes` (the first row always comes). A row's contents hold one pointer-row id per item kept
 * without a search document, which a key holder decides, so a page of rows could otherwise be any
 * size in the run's memory. `found` is how many rows `inner` read: fewer than its LIMIT means the
 * lane has caught up, whatever the cut.
 */
const bytePage = (inner: string, order: string, bytes: string) => `SELECT key, created_at, expires_at,
  contents, shards, found FROM (SELECT *, count(*) OVER () AS found,
    sum(length(CAST(contents AS BLOB))) OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)
      - length(CAST(contents AS BLOB)) AS before
  FROM (${inner})) WHERE before < max(${bytes}, 1) ORDER BY ${order}`;

/** A page of a shard's due rows, oldest due first: a range of the segments_expires_at index. */
export const DUE_SEGMENTS_SQL = bytePage(
  `SELECT key, created_at, expires_at, contents, shards FROM segments
    WHERE expires_at < ?1 ORDER BY expires_at, key LIMIT ?2`,
  "expires_at, key",
  "?3",
);
/** A page of a walk: a shard's rows in time order from the cursor (?1, ?3) up to ?2. */
const WALK_SEGMENTS_SQL = bytePage(
  `SELECT key, created_at, expires_at, contents, shards FROM segments
    WHERE created_at >= ?1 AND created_at < ?2 AND (created_at > ?1 OR key > ?3)
    ORDER BY created_at, key LIMIT ?4`,
  "created_at, key",
  "?5",
);

/** A lane: a shard's due rows (by expires_at), or a walk of its rows after a retention was lowered. */
interface Lane {
  shard: number;
  walk?: { days: number; cursor: Cursor; until: number };
  done: boolean;
}

/** A saved walk; null when the row is not one (or is damaged: the walk is then dropped). */
function parseWalk(after: string): { cursor: Cursor; until: number } | null {
  try {
    const v = JSON.parse(after) as { c?: unknown; until?: unknown };
    const c = v.c;
    if (!Array.isArray(c) || typeof c[0] !== "number" || typeof c[1] !== "string") return null;
    if (typeof v.until !== "number") return null;
    return { cursor: [c[0], c[1]], until: v.until };
  } catch {
    return null;
  }
}

/**
 * The segment pass. A segment row's share of a project expires `retentionDays` after the row was
 * written, and the row carries when its first share expires (expires_at, set by the processor from
 * the retention the edge sent with each item). Each shard's due lane reads the rows whose time has
 * come, oldest first, by that index: rows kept longer are never read before then, however many
 * there are or how many retentions the projects have (a walk per retention read every row once
 * per retention). A row keeps the shares that did not expire and gets the next expiry among them;
 * a row none of whose shares remain goes, with its R2 object (once no other shard's row names it:
 * rows written before one row per batch were each shard's share, and name the others or none).
 *
 * A row's expires_at can only be late when a project's retention is lowered after it was written
 * (a longer retention only makes it early: the row is read, kept and given the later time). So a
 * lowered retention (a marker the trigger of migration 0019 writes in the control database) starts
 * a walk on every shard of the rows in (created_at, key) order up to `now - days`, which goes on
 * until it has passed every row that a processor could have written with the old retention.
 *
 * Pages go round-robin over the lanes until `limits` are used; the next run's turns start where
 * this run's stopped. A page cut short is done again (idempotent): a due row stays due, and a walk
 * saves its cursor after each page.
 */
async function expireSegments(
  env: RetentionEnv,
  shards: D1Database[],
  now: number,
  daysOf: (projectId: string) => number,
  dbOf: (projectId: string) => D1Database,
  limits: RetentionLimits,
  budget: D1CallBudget,
  report: RetentionReport,
  step: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const lanes: Lane[] = [];
  let rotation = 0;
  const saveCursor = (db: D1Database, prefix: string, after: string) => cursorUpsert(db, prefix, after, now);
  const walkRow = (w: NonNullable<Lane["walk"]>) => JSON.stringify({ c: w.cursor, until: w.until });

  let markers: { prefix: string; after: string }[] = [];
  await step("segment restarts", async () => {
    markers = (
      await env.DB.prepare("SELECT prefix, after FROM sweep_cursors WHERE prefix LIKE ?")
        .bind(`${RESTART_PREFIX}%`)
        .all<{ prefix: string; after: string }>()
    ).results;
  });
  // A lowered retention's walk starts from the oldest row, and runs until rows written with the
  // old retention can no longer come (a second lowering to the same days starts it again).
  const started = new Map<number, NonNullable<Lane["walk"]>>();
  for (const m of markers) {
    const days = Number(m.prefix.slice(RESTART_PREFIX.length));
    const at = Number(m.after);
    if (!(days > 0) || !Number.isFinite(at)) continue;
    started.set(days, { days, cursor: START, until: Math.max(at, now) + STALE_POLICY_MS });
  }
  let ready = 0;
  for (const [i, db] of shards.entries())
    await step(`segment lanes shard ${i}`, async () => {
      const rows = (
        await db
          .prepare("SELECT prefix, after FROM sweep_cursors WHERE prefix LIKE 'retention:segments:%'")
          .all<{ prefix: string; after: string }>()
      ).results;
      if (i === 0) rotation = Number(rows.find((r) => r.prefix === ROTATION_PREFIX)?.after) || 0;
      const walks = new Map<number, NonNullable<Lane["walk"]>>();
      const drop: string[] = [];
      for (const r of rows) {
        if (r.prefix === ROTATION_PREFIX) continue;
        const days = r.prefix.startsWith(WALK_PREFIX)
          ? Number(r.prefix.slice(WALK_PREFIX.length))
          : Number.NaN;
        const saved = days > 0 ? parseWalk(r.after) : null;
        // Cursors of the per-retention walks this replaced, and damaged rows, go.
        if (saved) walks.set(days, { days, ...saved });
        else drop.push(r.prefix);
      }
      for (const [days, w] of started) walks.set(days, { ...w });
      const statements = [
        ...drop.map((prefix) => db.prepare("DELETE FROM sweep_cursors WHERE prefix = ?").bind(prefix)),
        ...[...started.values()].map((w) => saveCursor(db, `${WALK_PREFIX}${w.days}`, walkRow(w))),
      ];
      if (statements.length > 0) await db.batch(statements);
      ready++;
      lanes.push({ shard: i, done: false });
      for (const w of walks.values()) lanes.push({ shard: i, walk: w, done: false });
    });
  // Markers go once every shard has its walk (only those read: one written since stays).
  if (markers.length > 0 && ready === shards.length)
    await step("segment restart markers", async () => {
      await env.DB.batch(
        markers.map((m) =>
          env.DB.prepare("DELETE FROM sweep_cursors WHERE prefix = ? AND after = ?").bind(m.prefix, m.after),
        ),
      );
    });

  const deadline = Date.now() + limits.segmentMs;
  let pages = 0;
  // A page makes at most 2 calls per shard and three more; the projects' share stays untouched.
  const pageCalls = 2 * shards.length + 3;
  const reserve = Math.floor(limits.d1Calls * PROJECT_SHARE) + pageCalls;
  const budgetLeft = () => pages < limits.segmentPages && Date.now() < deadline && budget.has(reserve);
  // Lanes take a page each in turn, the shards' due lanes first in every round (walks after a
  // lowered retention must not slow what is due), each group starting where the last run's turns
  // stopped: with more lanes than a run's pages, the last lanes of a fixed order would never get
  // one. A page of nothing (a lane caught up) counts against the D1 budget only, not the pages.
  const due = lanes.filter((l) => !l.walk);
  const walks = lanes.filter((l) => l.walk);
  const rotated = (list: Lane[]) => {
    const s = list.length === 0 ? 0 : rotation % list.length;
    return [...list.slice(s), ...list.slice(0, s)];
  };
  const turns = [...rotated(due), ...rotated(walks)];
  let turn = rotation;
  while (budgetLeft() && turns.some((l) => !l.done)) {
    for (const lane of turns) {
      if (lane.done || !budgetLeft()) continue;
      if (!lane.walk) turn++; // the next run's due lanes start after the last one served
      const db = shards[lane.shard]!;
      const walk = lane.walk;
      const name = walk
        ? `segment walk shard ${lane.shard} ${walk.days}d`
        : `due segments shard ${lane.shard}`;
      await step(name, async () => {
        try {
          const rows = (
            walk
              ? await db
                  .prepare(WALK_SEGMENTS_SQL)
                  .bind(
                    walk.cursor[0],
                    now - walk.days * DAY,
                    walk.cursor[1],
                    limits.segmentPage,
                    limits.segmentBytes,
                  )
                  .all<SegmentRow & { found: number }>()
              : await db
                  .prepare(DUE_SEGMENTS_SQL)
                  .bind(now, limits.segmentPage, limits.segmentBytes)
                  .all<SegmentRow & { found: number }>()
          ).results;
          // Caught up: the range held fewer rows than a page, and the byte cut left none of them.
          const found = rows[0]?.found ?? 0;
          const caughtUp = found < limits.segmentPage && rows.length === found;
          if (caughtUp) lane.done = true;
          const last = rows.at(-1);
          if (last) {
            pages++;
            await expireSegmentPage(env, shards, lane.shard, rows, now, daysOf, dbOf, report);
          }
          if (!walk) return;
          if (last) walk.cursor = [last.created_at, last.key];
          // A walk is over once it has passed every row a stale retention could have written.
          if (caughtUp && now - walk.days * DAY >= walk.until)
            await db
              .prepare("DELETE FROM sweep_cursors WHERE prefix = ?")
              .bind(`${WALK_PREFIX}${walk.days}`)
              .run();
          else if (last) await saveCursor(db, `${WALK_PREFIX}${walk.days}`, walkRow(walk)).run();
        } catch (err) {
          lane.done = true; // tried again next run: a due row stays due, a walk from its last page
          throw err;
        }
      });
    }
  }
  if (lanes.length > 0 && shards[0])
    await step("segment lane rotation", async () => {
      await saveCursor(shards[0]!, ROTATION_PREFIX, String(turn % Math.max(1, due.length))).run();
    });
}

/** The shards a row says hold a share of its object besides `self` (all others when it does not say). */
function otherShards(row: SegmentRow, self: number, count: number): number[] {
  let named: unknown = null;
  try {
    named = row.shards === null ? null : JSON.parse(row.shards);
  } catch {}
  const all = Array.from({ length: count }, (_, i) => i);
  const list = Array.isArray(named) ? named.filter((s): s is number => Number.isSafeInteger(s)) : all;
  // A shard no longer bound holds nothing any more (a shard is removed only once it is empty).
  return [...new Set(list)].filter((s) => s !== self && s >= 0 && s < count);
}

/** A row's contents, or null when they cannot be read (or name no project: never written so). */
function readContents(text: string): SegmentContents | null {
  try {
    const contents = parseSegmentContents(text);
    const ok =
      typeof contents === "object" &&
      contents !== null &&
      !Array.isArray(contents) &&
      Object.keys(contents).length > 0 &&
      Object.values(contents).every((c) => Number.isFinite(c?.n) && Array.isArray(c?.ids));
    return ok ? contents : null;
  } catch {
    return null;
  }
}

/** Expires one page of a shard's segment rows (see expireSegments); idempotent. */
async function expireSegmentPage(
  env: RetentionEnv,
  shards: D1Database[],
  self: number,
  rows: SegmentRow[],
  now: number,
  daysOf: (projectId: string) => number,
  dbOf: (projectId: string) => D1Database,
  report: RetentionReport,
): Promise<void> {
  const shard = shards[self]!;
  const pointerDeletes = new Map<D1Database, D1PreparedStatement[]>();
  const rewrites: D1PreparedStatement[] = [];
  const gone: SegmentRow[] = [];
  let events = 0;
  for (const seg of rows) {
    report.segmentsExamined++;
    const contents = readContents(seg.contents);
    if (!contents) {
      // Damaged: what it holds is unknown, so it and its object stay; looked at again in a day
      // rather than blocking its shard's due lane, where it would come first in every run.
      console.warn(JSON.stringify({ msg: "segment row unreadable; kept", key: seg.key }));
      rewrites.push(
        shard.prepare("UPDATE segments SET expires_at = ? WHERE key = ?").bind(now + DAY, seg.key),
      );
      continue;
    }
    const expired = Object.entries(contents).filter(([pid]) => seg.created_at < now - daysOf(pid) * DAY);
    for (const [projectId, { n, ids }] of expired) {
      // On each project's current shard: a moved project's pointer rows went with it.
      if (ids.length > 0) {
        const db = dbOf(projectId);
        const list = pointerDeletes.get(db) ?? [];
        list.push(
          db
            .prepare(
              "DELETE FROM events WHERE project_id = ? AND event_id IN (SELECT value FROM json_each(?)) AND segment_key = ?",
            )
            .bind(Number(projectId), JSON.stringify(ids), seg.key),
        );
        pointerDeletes.set(db, list);
      }
      events += n;
      delete contents[projectId];
    }
    const left = Object.keys(contents);
    if (left.length === 0) {
      gone.push(seg);
      continue;
    }
    // Due again when the next share expires (later than now: every share left has not).
    const expiresAt = seg.created_at + Math.min(...left.map(daysOf)) * DAY;
    if (expired.length > 0)
      rewrites.push(
        shard
          .prepare("UPDATE segments SET contents = ?, expires_at = ? WHERE key = ?")
          .bind(JSON.stringify(contents), expiresAt, seg.key),
      );
    else if (expiresAt !== seg.expires_at)
      rewrites.push(
        shard.prepare("UPDATE segments SET expires_at = ? WHERE key = ?").bind(expiresAt, seg.key),
      );
  }

  // Pointer rows first (idempotent), then the R2 objects, then the segment rows: a run stopped
  // anywhere in between finds the rows again (still due, or behind the walk's saved cursor).
  for (const [db, statements] of pointerDeletes)
    for (const r of await db.batch(statements)) report.pointerRowsDeleted += r.meta.changes ?? 0;
  if (gone.length > 0) {
    // The R2 object goes once no other shard's row names it (a row per batch names none; older rows
    // were each shard's share of the batch, and name the others or, NULL, any). Deleting the object before this shard's
    // row means a run stopped in between leaves a row without an object (deleted again next
    // time), never an object no row names: the orphan sweep only looks at recent segments, so
    // such an object would stay for ever.
    const askFor = new Map<number, string[]>();
    for (const seg of gone)
      for (const s of otherShards(seg, self, shards.length)) {
        const keys = askFor.get(s) ?? [];
        keys.push(seg.key);
        askFor.set(s, keys);
      }
    const found = await Promise.all(
      [...askFor].map(([s, keys]) =>
        shards[s]!.prepare("SELECT key FROM segments WHERE key IN (SELECT value FROM json_each(?))")
          .bind(JSON.stringify(keys))
          .all<{ key: string }>(),
      ),
    );
    const elsewhere = new Set(found.flatMap((r) => r.results.map((x) => x.key)));
    const objects = gone.map((g) => g.key).filter((k) => !elsewhere.has(k));
    await deleteObjects(env.BLOBS, objects);
    report.segmentsDeleted += objects.length;
    rewrites.push(
      shard
        .prepare("DELETE FROM segments WHERE key IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(gone.map((g) => g.key))),
    );
  }
  if (rewrites.length > 0) await shard.batch(rewrites);
  report.eventsDeleted += events;
}

/**
 * Deletes ledger rows older than the queue's retention. Message ids start with their send time in
 * 12 hex digits (workers/edge/enqueue.ts), so "older" is a primary-key range: no scan.
 */
export async function pruneLedger(
  db: D1Database,
  now: number,
  maxChunks = 100,
  alongside?: D1PreparedStatement,
): Promise<number> {
  const cutoff = timeHex(now - LEDGER_DAYS * DAY);
  const stmt = db
    .prepare(`DELETE FROM message_ledger WHERE id IN (SELECT id FROM message_ledger WHERE id < ?
      LIMIT ${LEDGER_DELETE_CHUNK}) RETURNING 1 AS x`)
    .bind(cutoff);
  let pruned = 0;
  for (let i = 0; i < maxChunks; i++) {
    const n =
      i === 0 && alongside
        ? (await db.batch([stmt, alongside]))[0]!.results.length
        : (await stmt.all()).results.length;
    pruned += n;
    // A shard move's chunk guards ("move:…", workers/console/move-project.ts) sort after every
    // message id, so this range never reaches them: pruneMoveGuards does, on its own terms.
    if (n < LEDGER_DELETE_CHUNK) return pruned;
  }
  return pruned; // the rest next run
}

/** Move guards deleted per shard and run (one statement; the rest next run). */
const GUARD_DELETE_CHUNK = 5000;

/**
 * Deletes the chunk guards of project moves ("move:<project>:<chunk>" in the message ledger,
 * workers/console/move-project.ts) older than a day, of projects no outbox holds a chunk of on any
 * shard. A guard tells a rerun that its chunk arrived, so it stays while the project's outbox may
 * still hold a chunk (a stopped move, however long ago); and it turns away a chunk that a run
 * which stalled past its lease delivers after the run that took over did, which no Worker request
 * outlives by a day.
 */
export function moveGuardDelete(db: D1Database, pending: Set<number>, now: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM message_ledger WHERE id IN (SELECT id FROM message_ledger
         WHERE id >= 'move:' AND id < 'move;' AND applied_at < ?
           AND CAST(substr(id, 6, instr(substr(id, 6), ':') - 1) AS INTEGER) NOT IN (SELECT value FROM json_each(?))
         LIMIT ${GUARD_DELETE_CHUNK})`,
    )
    .bind(now - FENCE_DAYS * DAY, JSON.stringify([...pending]));
}

/** The dead-letter index a delete of unowned letters must walk (see expireDeadLetters). */
const BY_PROJECT = "dead_letters INDEXED BY dead_letters_project_created";

/**
 * Deletes dead letters older than their project's retention (UNOWNED_DEAD_LETTER_DAYS when the
 * body names no project, or one that no longer exists), in D1 and in the R2 fallback. Their blob
 * references go with them; the blobs themselves are left to the orphan sweep, which deletes them
 * unless something else (an attachments row, a newer dead letter) still refers to them.
 */
async function expireDeadLetters(
  env: RetentionEnv,
  now: number,
  retention: Map<string, number>,
): Promise<number> {
  const cutoffOf = (projectId: string) => now - (retention.get(projectId) ?? UNOWNED_DEAD_LETTER_DAYS) * DAY;
  // One statement per distinct retention (a handful), not per project: a batch's size must not
  // grow with the number of projects. Each deletes at most DEAD_LETTER_CHUNK rows (an outage can
  // dead-letter millions of messages, and one statement deleting them all would outrun D1's
  // 30-second limit); statements that were full run again, for DEAD_LETTER_ROUNDS rounds a run.
  const cohorts = new Map<number, number[]>();
  for (const [projectId, days] of retention) {
    const ids = cohorts.get(days) ?? [];
    ids.push(Number(projectId));
    cohorts.set(days, ids);
  }
  const chunk = (where: string, from = "dead_letters") =>
    `DELETE FROM dead_letters WHERE id IN (SELECT id FROM ${from} WHERE ${where} LIMIT ${DEAD_LETTER_CHUNK})
     RETURNING 1 AS x`;
  const statements = [...cohorts].map(([days, ids]) =>
    env.DB.prepare(chunk("project_id IN (SELECT value FROM json_each(?)) AND created_at < ?")).bind(
      JSON.stringify(ids),
      now - days * DAY,
    ),
  );
  // Letters that name no project, or one the control database does not know (projects are never
  // deleted, so only ids above the highest): each an index range (project_id, created_at), never a
  // walk of every letter older than 30 days, most of which long-kept projects' retention keeps.
  const unowned = now - UNOWNED_DEAD_LETTER_DAYS * DAY;
  statements.push(
    env.DB.prepare(chunk("project_id IS NULL AND created_at < ?", BY_PROJECT)).bind(unowned),
    // The index named: SQLite would take the created_at one for a bound it cannot know beforehand.
    env.DB.prepare(
      chunk("project_id > (SELECT coalesce(max(id), 0) FROM projects) AND created_at < ?", BY_PROJECT),
    ).bind(unowned),
  );
  // A letter's claim-check references (so the orphan sweep may take their blobs) go with it: the
  // trigger of migration 0018.
  let deleted = 0;
  let open = statements;
  for (let round = 0; round < DEAD_LETTER_ROUNDS && open.length > 0; round++) {
    const results = await env.DB.batch(open);
    const full = new Set<D1PreparedStatement>();
    for (const [i, r] of results.entries()) {
      // Dead letters the statement deleted (its rows: D1's meta.changes counts the trigger's too).
      const n = r.results.length;
      deleted += n;
      if (n >= DEAD_LETTER_CHUNK) full.add(open[i]!);
    }
    open = open.filter((s) => full.has(s));
  }

  // The R2 fallback (dead letters recorded while D1 failed): a bounded walk from where the last
  // run stopped, like the orphan sweep's.
  await walkPrefix(
    env,
    DEAD_LETTER_PREFIX,
    { maxKeys: DEAD_LETTER_KEYS_PER_RUN, now, include: ["customMetadata"] },
    async (objects) => {
      const expired = objects.filter((o) => {
        const created = Number(o.customMetadata?.createdAt) || o.uploaded.getTime();
        return created < cutoffOf(o.customMetadata?.projectId ?? "");
      });
      if (expired.length === 0) return;
      await deleteObjects(
        env.BLOBS,
        expired.map((o) => o.key),
      );
      deleted += expired.length;
    },
  );
  return deleted;
}
