// Bench worker (bundled by bench/lib/processor.mjs and run in workerd by Miniflare): exposes the
// REAL processor and indexer batch paths over HTTP, so every operation they cost can be counted.
//   POST /batch  queue message bodies exactly as the edge's enqueue built them → processBatch
//                against local D1/R2 and real local queues; returns its metrics, D1 rows and
//                database size as D1 reported them, R2 puts/gets, the index messages it sent.
//   POST /index  index message bodies → the indexer's handleIndexBatch with the configured search
//                backend (D1 FTS5, or Elasticsearch when ELASTICSEARCH_URL is set).
//   POST /parse  the same message bodies → JSON.parse of every payload, timed in this runtime:
//                the floor the processor's time per event is compared with.
//   POST /retention  the processor's cron (runRetention) as if every retention had passed, run by
//                run until nothing is left: what deleting the run's data costs, as D1 and R2
//                counted it (D1 bills a deleted row as a row written; R2 lists are class A).

import { foldAll } from "../shared/db/group-fold";
import { type ShardEnv, shardDbs } from "../shared/db/shards";
import { decodeMessage } from "../shared/queue-codec";
import { createSearchBackend } from "../shared/search/index";
import { handleIndexBatch } from "../workers/indexer/handle-index-batch";
import { type ProcessEnv, processBatch } from "../workers/processor/process-batch";
import { runRetention } from "../workers/processor/retention";

interface BenchEnv extends ProcessEnv {
  ELASTICSEARCH_URL?: string;
  ELASTICSEARCH_INDEX_PREFIX?: string;
}

/** Wraps D1 to add up what D1 itself reports (rows read and written) for every query. */
interface D1Counts {
  rowsRead: number;
  rowsWritten: number;
  queries: number;
  ms: number;
  /** Queries whose rows D1 does not report (raw()). */
  unmetered: number;
  /** Largest database size D1 reported after a statement (meta.size_after), bytes. */
  sizeAfter: number;
  /** Rows read / written per statement (first words of its SQL), to show what D1 spends. */
  byStatement: Record<string, { read: number; written: number; n: number; ms: number }>;
}

const sqlOf = new WeakMap<object, string>();

/** Time with at least one binding call in flight (the processor overlaps them): waits counted once. */
const inFlight = { n: 0, since: 0, ms: 0, calls: 0 };
const enter = () => {
  inFlight.calls++;
  return inFlight.n++ === 0 ? (inFlight.since = performance.now()) : performance.now();
};
const leave = () => {
  if (--inFlight.n === 0) inFlight.ms += performance.now() - inFlight.since;
};
/**
 * Milliseconds added before every D1, R2 and queue call of a /batch?latencyMs= request: local
 * bindings answer in microseconds on the processor's own thread, production ones over the network,
 * and this shows how many round trips a batch waits for one after another.
 */
let latencyMs = 0;
const remote = () => (latencyMs > 0 ? scheduler.wait(latencyMs) : undefined);

function countingDb(db: D1Database, counts: D1Counts) {
  const add = (
    meta: { rows_read?: number; rows_written?: number; size_after?: number; duration?: number } | undefined,
    sql = "?",
  ) => {
    counts.sizeAfter = Math.max(counts.sizeAfter, meta?.size_after ?? 0);
    counts.rowsRead += meta?.rows_read ?? 0;
    counts.rowsWritten += meta?.rows_written ?? 0;
    counts.queries++;
    const key = sql.replace(/\s+/g, " ").trim().slice(0, 48);
    const s = (counts.byStatement[key] ??= { read: 0, written: 0, n: 0, ms: 0 });
    s.read += meta?.rows_read ?? 0;
    s.written += meta?.rows_written ?? 0;
    // D1's own execution time of the statement (SQLite, inside the batch's transaction).
    s.ms += meta?.duration ?? 0;
    s.n++;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          const t0 = enter();
          await remote();
          const results = await target.batch(stmts).finally(leave);
          counts.ms += performance.now() - t0;
          for (let i = 0; i < results.length; i++) add(results[i]?.meta, sqlOf.get(stmts[i] as object));
          return results;
        };
      }
      if (prop === "prepare") {
        return (sql: string) => {
          return wrapStmt(target.prepare(sql), sql);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  function wrapStmt(stmt: D1PreparedStatement, sql: string): D1PreparedStatement {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrapStmt(target.bind(...args), sql);
        if (prop === "raw") {
          // raw() returns no meta: counted as a query whose rows D1 did not report.
          return (...args: unknown[]) => {
            counts.unmetered++;
            return (target.raw as (...a: unknown[]) => unknown)(...args);
          };
        }
        if (prop === "run" || prop === "all" || prop === "first") {
          return async (...args: unknown[]) => {
            const t0 = enter();
            await remote();
            if (prop === "first") {
              // first() has no meta either: all() returns the same rows with it.
              const r = await target.all().finally(leave);
              counts.ms += performance.now() - t0;
              add(r.meta, sql);
              const row = (r.results[0] ?? null) as Record<string, unknown> | null;
              return typeof args[0] === "string" ? (row?.[args[0]] ?? null) : row;
            }
            const r = await (prop === "run" ? target.run() : target.all()).finally(leave);
            counts.ms += performance.now() - t0;
            add(r.meta, sql);
            return r;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    sqlOf.set(proxy, sql);
    return proxy;
  }
}

interface CallCounts {
  ms: number;
  calls: number;
  byMethod: Record<string, number>;
  /** Bytes given to put (R2): what is stored for the retention period. */
  putBytes: number;
  /** Bodies given to send/sendBatch (queue bindings), so their bytes and contents can be counted. */
  bodies: string[];
}
function byteSize(v: unknown): number {
  if (typeof v === "string") return new TextEncoder().encode(v).byteLength;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return v.byteLength;
  return 0;
}

const newCalls = (): CallCounts => ({ ms: 0, calls: 0, byMethod: {}, putBytes: 0, bodies: [] });

/** Times and counts every call of the named async methods of a binding (R2 put/get, queue sends). */
function timed<T extends object>(binding: T, methods: string[], acc: CallCounts): T {
  return new Proxy(binding, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      if (!methods.includes(String(prop))) return v.bind(target);
      return async (...args: unknown[]) => {
        const t0 = enter();
        const m = String(prop);
        acc.byMethod[m] = (acc.byMethod[m] ?? 0) + 1;
        if (m === "send") acc.bodies.push(String(args[0]));
        if (m === "put") acc.putBytes += byteSize(args[1]);
        if (m === "sendBatch")
          for (const x of args[0] as { body: unknown }[]) acc.bodies.push(String(x.body));
        try {
          await remote();
          return await v.apply(target, args);
        } finally {
          leave();
          acc.ms += performance.now() - t0;
          acc.calls++;
        }
      };
    },
  });
}

function fakeBatch(queue: string, bodies: string[]) {
  const settled = { acked: 0, retried: 0 };
  const messages = bodies.map(
    (body, i): Message<unknown> => ({
      id: `m${i}`,
      timestamp: new Date(),
      body,
      attempts: 1,
      ack: () => {
        settled.acked++;
      },
      retry: () => {
        settled.retried++;
      },
    }),
  );
  const batch: MessageBatch<unknown> = {
    queue,
    messages,
    metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
    ackAll: () => {
      settled.acked += messages.length;
    },
    retryAll: () => {
      settled.retried += messages.length;
    },
  };
  return { batch, settled };
}

const newD1 = (): D1Counts => ({
  rowsRead: 0,
  rowsWritten: 0,
  queries: 0,
  unmetered: 0,
  ms: 0,
  sizeAfter: 0,
  byStatement: {},
});

async function runBatch(queue: string, bodies: string[], env: BenchEnv): Promise<Response> {
  const { batch, settled } = fakeBatch(queue, bodies);
  const d1 = newD1();
  const r2 = newCalls();
  const queues = newCalls();
  const index = newCalls();
  inFlight.ms = 0;
  inFlight.calls = 0;
  const t0 = performance.now();
  const metrics = await processBatch(batch, {
    ...env,
    DB: countingDb(env.DB, d1),
    BLOBS: timed(env.BLOBS, ["put", "get", "delete", "head"], r2),
    Q_INDEX: timed(env.Q_INDEX, ["send", "sendBatch"], index),
    Q_DLQ: timed(env.Q_DLQ, ["send", "sendBatch"], queues),
  });
  const ms = performance.now() - t0;
  queues.ms += index.ms;
  const { bodies: indexBodies, ...indexCalls } = index;
  const awaitingMs = inFlight.ms;
  const bindingCalls = inFlight.calls;
  return Response.json({
    metrics,
    ms,
    awaitingMs,
    bindingCalls,
    d1,
    r2,
    queues,
    indexCalls,
    indexBodies,
    ...settled,
  });
}

const DAY = 86_400_000;

/**
 * Retention over everything the run wrote: the cron runs (each within its own D1 budget) at a time
 * past every retention until a run deletes nothing more, then once more idle. Returns D1 rows read
 * and written, D1 calls and R2 calls by method over all the runs, what the idle run cost alone,
 * what was deleted, and how many runs there were.
 */
async function runRetentionAll(env: BenchEnv): Promise<Response> {
  const d1 = newD1();
  const r2 = newCalls();
  const counted = {
    ...env,
    DB: countingDb(env.DB, d1),
    BLOBS: timed(env.BLOBS, ["put", "get", "delete", "head", "list"], r2),
  };
  // Any other D1 binding (metadata shards) is counted the same way.
  for (const [k, v] of Object.entries(env))
    if (k.startsWith("DB_SHARD_")) (counted as Record<string, unknown>)[k] = countingDb(v as D1Database, d1);
  const at = Date.now() + 400 * DAY;
  const totals = { runs: 0, segmentsDeleted: 0, eventsDeleted: 0, groupsDeleted: 0, searchDocsDeleted: 0 };
  const errors: string[] = [];
  for (let run = 0; run < 50; run++) {
    const report = await runRetention(counted as never, at);
    totals.runs++;
    errors.push(...report.errors);
    totals.segmentsDeleted += report.segmentsDeleted;
    totals.eventsDeleted += report.eventsDeleted;
    totals.groupsDeleted += report.groupsDeleted;
    totals.searchDocsDeleted += report.searchDocsDeleted;
    const did =
      report.segmentsDeleted +
      report.eventsDeleted +
      report.groupsDeleted +
      report.searchDocsDeleted +
      report.ledgerPruned +
      report.orphansDeleted +
      report.attachmentsDeleted;
    if (did === 0) break;
  }
  // The last run found nothing to delete: what any run costs with no data (cursors, probes). That
  // belongs to the cron's schedule, not to the events, so the caller takes it off each run.
  const before = { ...d1, r2List: r2.byMethod.list ?? 0 };
  await runRetention(counted as never, at);
  const idle = {
    rowsWritten: d1.rowsWritten - before.rowsWritten,
    rowsRead: d1.rowsRead - before.rowsRead,
    queries: d1.queries - before.queries,
    r2List: (r2.byMethod.list ?? 0) - before.r2List,
  };
  const { bodies: _bodies, ...r2Calls } = r2;
  return Response.json({ d1, r2: r2Calls, idle, errors, ...totals, runs: totals.runs + 1 });
}

/**
 * Folds the pending group deltas (shared/db/group-fold.ts) the run's last batches left, as the next
 * batch or reader would: its rows and time belong to the events that made the deltas.
 */
async function runFold(env: BenchEnv): Promise<Response> {
  const d1 = newD1();
  const t0 = performance.now();
  let deltas = 0;
  for (const shard of shardDbs(env as unknown as ShardEnv))
    deltas += (await foldAll(countingDb(shard, d1))).deltas;
  const ms = performance.now() - t0;
  // The message ledger is pruned once the queue cannot redeliver (4 days), not after the data's
  // retention: its bytes (counted from its rows) are priced for that long.
  let ledgerBytes = 0;
  for (const shard of shardDbs(env as unknown as ShardEnv)) {
    const row = await shard
      .prepare(
        "SELECT coalesce(sum(length(id) + length(batch_id) + length(ids) + 8), 0) AS b FROM message_ledger",
      )
      .first<{ b: number }>();
    ledgerBytes += row?.b ?? 0;
  }
  const rows = await rowBytes(env);
  return Response.json({ ms, d1, deltas, ledgerBytes, rowBytes: rows.total, rowBytesByTable: rows.byTable });
}

/**
 * The bytes of every row the databases hold (sum of each column's length, from D1 itself; b-tree
 * and index overhead not included), group_deltas left out (folded and deleted). The database
 * file's growth alone hides new rows in pages a fold freed, so growth is counted both ways.
 */
async function rowBytes(env: BenchEnv): Promise<{ total: number; byTable: Record<string, number> }> {
  let total = 0;
  const byTable: Record<string, number> = {};
  for (const db of shardDbs(env as unknown as ShardEnv)) {
    const tables = await db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'
           AND name NOT IN ('d1_migrations', 'group_deltas') AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'`,
      )
      .all<{ name: string }>();
    for (const { name } of tables.results) {
      const cols = await db
        .prepare("SELECT name FROM pragma_table_info(?)")
        .bind(name)
        .all<{ name: string }>();
      if (cols.results.length === 0) continue;
      const sum = cols.results.map((c) => `coalesce(length("${c.name}"), 0)`).join(" + ");
      const row = await db
        .prepare(`SELECT coalesce(sum(${sum}), 0) AS b FROM "${name}"`)
        .first<{ b: number }>();
      total += row?.b ?? 0;
      byTable[name] = (byTable[name] ?? 0) + (row?.b ?? 0);
    }
  }
  return { total, byTable };
}

async function runIndex(bodies: string[], env: BenchEnv): Promise<Response> {
  const { batch, settled } = fakeBatch("sluice-index", bodies);
  const d1 = newD1();
  let deadLettered = 0;
  // Time spent awaiting Elasticsearch (fetch), so it can be told apart from the indexer's CPU.
  const fetchAcc = { ms: 0, calls: 0 };
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const f0 = performance.now();
    try {
      return await realFetch(...args);
    } finally {
      fetchAcc.ms += performance.now() - f0;
      fetchAcc.calls++;
    }
  };
  const t0 = performance.now();
  try {
    await handleIndexBatch(batch, {
      backend: createSearchBackend({ ...env, DB: countingDb(env.DB, d1) }),
      deadLetter: async () => {
        deadLettered++;
      },
    });
  } finally {
    globalThis.fetch = realFetch;
  }
  const ms = performance.now() - t0;
  return Response.json({ ms, d1, fetchMs: fetchAcc.ms, fetches: fetchAcc.calls, deadLettered, ...settled });
}

let sink = 0;
/** JSON.parse of every payload of the messages, timed here (decoding is outside the timed part). */
function runParse(bodies: string[], rounds: number): Response {
  const payloads: string[] = [];
  for (const b of bodies)
    for (const item of decodeMessage(b).items) if (item.payload) payloads.push(item.payload);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const p of payloads) sink += JSON.parse(p) ? 1 : 0;
    times.push(performance.now() - t0);
  }
  // The median round: the processor's batch is timed once, so neither side gets a best-of.
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  return Response.json({ ms: median, payloads: payloads.length, sink: sink % 2 });
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "POST") return new Response("not found", { status: 404 });
    // Message bodies contain newlines (raw payloads after a header line): sent as a JSON array.
    const bodies = (await request.json()) as string[];
    latencyMs = url.pathname === "/batch" ? Number(url.searchParams.get("latencyMs")) || 0 : 0;
    if (url.pathname === "/batch")
      return runBatch(url.searchParams.get("queue") ?? "sluice-errors-0", bodies, env);
    if (url.pathname === "/index") return runIndex(bodies, env);
    if (url.pathname === "/fold") return runFold(env);
    if (url.pathname === "/retention") return runRetentionAll(env);
    if (url.pathname === "/parse") return runParse(bodies, Number(url.searchParams.get("rounds") ?? 3));
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<BenchEnv>;
