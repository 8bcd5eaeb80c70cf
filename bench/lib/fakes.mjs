// In-memory fakes for the edge's bindings (in-process benchmark): D1 answers the project look-up,
// R2 and queues only count. Anything else the edge asks D1 is answered empty and recorded, so the
// report can say which queries a newly landed module (admission, quotas) added to the hot path.

export const PROJECT_ID = 1;
/** The public key of the captured Sentry fixtures, also used as the Raygun X-ApiKey. */
export const INGEST_KEY = "e12d836b15bb49d7bbf99e64295d995b";
/**
 * The bench project's settings: spike protection off. On a fresh project Raygun's spike rule
 * admits max(50, 5 × 24 h average) per minute, so a throughput benchmark would measure 429s.
 */
export const BENCH_SETTINGS = JSON.stringify({ spikeProtection: false });

export function fakeD1(stats, settings = BENCH_SETTINGS) {
  const row = { id: PROJECT_ID, ingest_key: INGEST_KEY, settings };
  const stmt = (sql, args = []) => ({
    bind: (...a) => stmt(sql, a),
    async first() {
      stats.d1Queries++;
      if (/FROM projects/i.test(sql)) return args[0] === INGEST_KEY ? { ...row } : null;
      stats.otherSql.add(sql.replace(/\s+/g, " ").slice(0, 120));
      return null;
    },
    async all() {
      stats.d1Queries++;
      stats.otherSql.add(sql.replace(/\s+/g, " ").slice(0, 120));
      return { results: [], success: true, meta: {} };
    },
    async run() {
      stats.d1Queries++;
      stats.otherSql.add(sql.replace(/\s+/g, " ").slice(0, 120));
      return { results: [], success: true, meta: { rows_written: 0, rows_read: 0 } };
    },
    async raw() {
      return [];
    },
  });
  return {
    prepare: (sql) => stmt(sql),
    async batch(list) {
      return Promise.all(list.map((s) => s.run()));
    },
    async exec() {
      return { count: 0, duration: 0 };
    },
  };
}

export function fakeR2(stats, keep = null) {
  return {
    async put(key, value) {
      stats.r2Puts++;
      if (keep) keep.set(key, typeof value === "string" ? value : new Uint8Array(value));
      return { key };
    },
    async get(key) {
      stats.r2Gets++;
      const v = keep?.get(key);
      if (v === undefined) return null;
      return { text: async () => (typeof v === "string" ? v : new TextDecoder().decode(v)) };
    },
    async head() {
      return null;
    },
    async delete() {},
  };
}

const CHUNK = 64 * 1024;
export function fakeQueue(stats, name, capture = null) {
  const one = (body) => {
    const bytes = Buffer.byteLength(typeof body === "string" ? body : JSON.stringify(body));
    stats.messages++;
    stats.messageBytes += bytes;
    stats.queueOps += 3 * Math.max(1, Math.ceil(bytes / CHUNK));
    if (capture) capture.push({ queue: name, body });
  };
  return {
    async send(body) {
      stats.sendCalls++;
      one(body);
    },
    async sendBatch(list) {
      stats.sendCalls++;
      for (const m of list) one(m.body);
    },
  };
}

export function newStats() {
  return {
    d1Queries: 0,
    otherSql: new Set(),
    r2Puts: 0,
    r2Gets: 0,
    messages: 0,
    messageBytes: 0,
    queueOps: 0,
    sendCalls: 0,
  };
}

/**
 * A Durable Object namespace running the REAL QuotaCounter class (bundled with a
 * cloudflare:workers shim) over in-memory storage that counts what Cloudflare bills a
 * SQLite-backed object for its key-value API: one row read per get, one row written per put.
 * `history` seeds every counter (a 24 h average high enough that spike protection admits the load).
 */
export function quotaNamespace(lib, counts, history = null) {
  const objects = new Map();
  const storageOf = () => {
    const m = new Map();
    return {
      async get(k) {
        counts.rowsRead++;
        return structuredClone(m.get(k));
      },
      async put(k, v) {
        counts.rowsWritten++;
        m.set(k, structuredClone(v));
      },
    };
  };
  return {
    idFromName: (name) => name,
    get(id) {
      let o = objects.get(id);
      if (!o) {
        o = new lib.QuotaCounter({ storage: storageOf(), id }, {});
        objects.set(id, o);
        if (history) o.ready = o.seed(history);
      }
      return {
        async consume(req) {
          await o.ready;
          counts.requests++;
          const t0 = performance.now();
          try {
            return await o.consume(req);
          } finally {
            counts.ms += performance.now() - t0;
          }
        },
      };
    },
  };
}

/** An EdgeEnv made of fakes. `capture` collects queue message bodies; `blobs` keeps R2 puts. */
export function fakeEdgeEnv(
  stats,
  { capture = null, blobs = null, settings = BENCH_SETTINGS, quota = undefined, shards = null } = {},
) {
  const queues = {};
  for (const [kind, n] of Object.entries(shards ?? { errors: 1, rum: 1, telemetry: 1 }))
    for (let i = 0; i < n; i++)
      queues[`Q_${kind.toUpperCase()}_${i}`] = fakeQueue(stats, `sluice-${kind}-${i}`, capture);
  return {
    DB: fakeD1(stats, settings),
    QUOTA: quota,
    ...queues,
    BLOBS: fakeR2(stats, blobs),
    QUEUE_SHARDS: JSON.stringify(shards ?? { errors: 1, rum: 1, telemetry: 1 }),
    PROJECT_CACHE_TTL_SECONDS: "30",
    ADMIN_TOKEN: "x",
    CONSOLE: {
      // A request that reaches the console was not an ingestion route (e.g. Sentry not landed yet).
      async fetch() {
        stats.consoleForwards = (stats.consoleForwards ?? 0) + 1;
        return new Response("no such route (console)", { status: 404 });
      },
    },
  };
}

export const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} };
