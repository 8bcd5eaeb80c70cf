// Bench worker (bundled by bench/lib/processor.mjs and run in workerd by Miniflare): exposes the
// REAL processor batch path over HTTP. POST /batch takes queue message bodies (IngestBatch JSON,
// one per line, exactly as the edge's enqueue built them), runs processBatch against local D1/R2
// and real local queues, and returns its metrics, D1 rows read/written as D1 reported them, and
// the time processBatch took.
import { type ProcessEnv, processBatch } from "../workers/processor/process-batch";

interface BenchEnv extends ProcessEnv {}

/** Wraps D1 to add up what D1 itself reports (rows read and written) for every query. */
interface D1Counts {
  rowsRead: number;
  rowsWritten: number;
  queries: number;
  ms: number;
  /** Rows read / written per statement (first words of its SQL), to show what D1 spends. */
  byStatement: Record<string, { read: number; written: number; n: number }>;
}

const sqlOf = new WeakMap<object, string>();

function countingDb(db: D1Database, counts: D1Counts) {
  const add = (meta: { rows_read?: number; rows_written?: number } | undefined, sql = "?") => {
    counts.rowsRead += meta?.rows_read ?? 0;
    counts.rowsWritten += meta?.rows_written ?? 0;
    counts.queries++;
    const key = sql.replace(/\s+/g, " ").trim().slice(0, 48);
    const s = (counts.byStatement[key] ??= { read: 0, written: 0, n: 0 });
    s.read += meta?.rows_read ?? 0;
    s.written += meta?.rows_written ?? 0;
    s.n++;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return async (stmts: D1PreparedStatement[]) => {
          const t0 = performance.now();
          const results = await target.batch(stmts);
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
        if (prop === "run" || prop === "all") {
          return async () => {
            const t0 = performance.now();
            const r = await (prop === "run" ? target.run() : target.all());
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

/** Times every call of the named async methods of a binding (R2 put, queue sends). */
function timed<T extends object>(binding: T, methods: string[], acc: { ms: number; calls: number }): T {
  return new Proxy(binding, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      if (!methods.includes(String(prop))) return v.bind(target);
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await v.apply(target, args);
        } finally {
          acc.ms += performance.now() - t0;
          acc.calls++;
        }
      };
    },
  });
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/batch")
      return new Response("not found", { status: 404 });
    const queue = url.searchParams.get("queue") ?? "sluice-errors-0";
    // Message bodies contain newlines (raw payloads after a header line): sent as a JSON array.
    const bodies = (await request.json()) as string[];
    let acked = 0;
    let retried = 0;
    const messages = bodies.map(
      (body, i): Message<unknown> => ({
        id: `m${i}`,
        timestamp: new Date(),
        body,
        attempts: 1,
        ack: () => {
          acked++;
        },
        retry: () => {
          retried++;
        },
      }),
    );
    const batch: MessageBatch<unknown> = {
      queue,
      messages,
      metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } },
      ackAll: () => {
        acked += messages.length;
      },
      retryAll: () => {
        retried += messages.length;
      },
    };
    const d1: D1Counts = { rowsRead: 0, rowsWritten: 0, queries: 0, ms: 0, byStatement: {} };
    const r2 = { ms: 0, calls: 0 };
    const queues = { ms: 0, calls: 0 };
    const t0 = performance.now();
    const metrics = await processBatch(batch, {
      ...env,
      DB: countingDb(env.DB, d1),
      BLOBS: timed(env.BLOBS, ["put", "get"], r2),
      Q_INDEX: timed(env.Q_INDEX, ["send", "sendBatch"], queues),
      Q_DLQ: timed(env.Q_DLQ, ["send", "sendBatch"], queues),
    });
    const ms = performance.now() - t0;
    return Response.json({ metrics, ms, d1, r2, queues, acked, retried });
  },
} satisfies ExportedHandler<BenchEnv>;
