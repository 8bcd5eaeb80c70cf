// The capacity plan's shape, proven locally: the REAL edge (in-process) spreads reports of many
// projects over N error-queue shards (hash of project and event id), and the REAL processor
// (workerd, Miniflare: on-disk local D1 and R2) consumes every queue shard in batches of 100,
// writing each project's metadata to its D1 shard (M `DB_SHARD_<n>` bindings; projects placed
// least-loaded, as the console places them). Counted afterwards from the databases themselves:
// every accepted report is counted once on its project's shard (nothing lost, nothing doubled) and
// is in the event index once (the real indexer consumes every index message the processor sent;
// D1 FTS5 here), every queue shard and every metadata shard carried load, and max/mean load per
// shard. Queues are the one part simulated: the edge's and the processor's sends are captured and
// delivered in batches.
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { bundleForWorkerd, scratch } from "./build.mjs";
import { BENCH_SETTINGS, ctx, fakeEdgeEnv, newStats } from "./fakes.mjs";
import { batches, itemsIn } from "./messages.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort } from "./miniflare.mjs";
import { raygunNodeReport, rng, sizeSampler, zipf } from "./payloads.mjs";

const hex = (rand, n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join("");
const round = (x) => Math.round(x * 1000) / 1000;

/** The edge's project look-ups (by key, and the per-prefix key buckets) answered from `projects`. */
function projectsD1(projects) {
  const byKey = new Map(projects.map((p) => [p.key, p]));
  const keys = projects.map((p) => p.key).sort();
  const stmt = (sql, args = []) => ({
    bind: (...a) => stmt(sql, a),
    async first() {
      const p = byKey.get(args[0]);
      return /FROM projects/i.test(sql) && p
        ? { id: p.id, ingest_key: p.key, settings: BENCH_SETTINGS }
        : null;
    },
    async all() {
      if (/SELECT ingest_key FROM projects/i.test(sql))
        return { results: keys.filter((k) => k >= args[0] && k < args[1]).map((k) => ({ ingest_key: k })) };
      return { results: [] };
    },
    async run() {
      return { results: [], meta: { rows_written: 0 } };
    },
  });
  return { prepare: (sql) => stmt(sql), batch: async (l) => Promise.all(l.map((s) => s.run())) };
}

const loadOf = (counts) => {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = total / counts.length;
  return {
    used: counts.filter((n) => n > 0).length,
    maxOverMean: mean > 0 ? round(Math.max(...counts) / mean) : null,
  };
};

export async function benchPipelineShards(
  lib,
  { queueShards = 4, metaShards = 4, projects = 40, reports = 4000, concurrency = 16 } = {},
) {
  const rand = rng(23);
  const size = sizeSampler(rand);
  const group = zipf(200, 1.1, rand);
  const list = Array.from({ length: projects }, (_, i) => ({
    id: i + 1,
    key: hex(rand, 32),
    shard: i % metaShards,
  }));

  // 1. The edge: every report to a project drawn uniformly, N error-queue shards.
  const capture = [];
  const env = {
    ...fakeEdgeEnv(newStats(), { capture, shards: { errors: queueShards, rum: 1, telemetry: 1 } }),
    DB: projectsD1(list),
  };
  lib.clearProjectCache();
  const acceptedBy = new Map();
  let accepted = 0;
  for (let i = 0; i < reports; i += concurrency) {
    const wave = [];
    for (let j = i; j < Math.min(reports, i + concurrency); j++) {
      const p = list[Math.floor(rand() * list.length)];
      const body = JSON.stringify(raygunNodeReport({ bytes: size(), g: group(), id: j, rand }));
      wave.push(
        lib.app
          .fetch(
            new Request("https://ingest.sluice.test/entries", {
              method: "POST",
              headers: { "content-type": "application/json", "x-apikey": p.key },
              body,
            }),
            env,
            ctx,
          )
          .then((res) => ({ res, p })),
      );
    }
    for (const { res, p } of await Promise.all(wave))
      if (res.status === 202) {
        accepted++;
        acceptedBy.set(p.id, (acceptedBy.get(p.id) ?? 0) + 1);
      }
  }
  lib.clearProjectCache();
  const byQueue = new Map();
  for (const m of capture) {
    const body = typeof m.body === "string" ? m.body : JSON.stringify(m.body);
    (byQueue.get(m.queue) ?? byQueue.set(m.queue, []).get(m.queue)).push(body);
  }

  // 2. The processor in workerd with M metadata shards.
  const bundle = await bundleForWorkerd("bench/processor-worker.ts", "processor-bench");
  const state = scratch(`pipeline-shards-${queueShards}-${metaShards}`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  const shardBindings = Object.fromEntries(
    Array.from({ length: metaShards }, (_, i) => [`DB_SHARD_${i}`, `sluice-meta-${i}`]),
  );
  const port = await freePort();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    cf: false,
    log: new Log(LogLevel.WARN),
    d1Persist: join(state, "d1"),
    r2Persist: join(state, "r2"),
    workers: [
      {
        name: "processor-bench",
        modules: true,
        scriptPath: bundle,
        modulesRoot: dirname(bundle),
        ...COMPAT,
        d1Databases: { DB: "sluice", ...shardBindings },
        r2Buckets: { BLOBS: "sluice-blobs" },
        queueProducers: { Q_INDEX: { queueName: "sluice-index" }, Q_DLQ: { queueName: "sluice-dlq" } },
      },
      {
        name: "drain",
        modules: true,
        script: DRAIN_WORKER,
        ...COMPAT,
        queueConsumers: {
          "sluice-index": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
          "sluice-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
        },
      },
    ],
  });
  try {
    await mf.ready;
    const control = await mf.getD1Database("DB", "processor-bench");
    const shards = [];
    for (let i = 0; i < metaShards; i++)
      shards.push(await mf.getD1Database(`DB_SHARD_${i}`, "processor-bench"));
    for (const db of [control, ...shards]) await applyMigrations(db);
    const now = Date.now();
    for (const p of list)
      await control
        .prepare(
          "INSERT INTO projects (id, name, ingest_key, settings, shard, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id, `bench-${p.id}`, p.key, BENCH_SETTINGS, p.shard, now, now)
        .run();

    const queueEvents = [];
    const rowsByShard = new Array(metaShards).fill(0);
    let retried = 0;
    let deadLettered = 0;
    const t0 = performance.now();
    for (let q = 0; q < queueShards; q++) {
      const bodies = byQueue.get(`sluice-errors-${q}`) ?? [];
      queueEvents.push(bodies.reduce((n, b) => n + itemsIn(b), 0));
      for (const b of batches(bodies, 100)) {
        const res = await fetch(`http://127.0.0.1:${port}/batch?queue=sluice-errors-${q}`, {
          method: "POST",
          body: JSON.stringify(b),
        });
        if (!res.ok) throw new Error(`bench worker: ${res.status} ${await res.text()}`);
        const { metrics, indexBodies } = await res.json();
        retried += metrics.retried;
        deadLettered += metrics.deadLettered;
        // The index queue, consumed by the real indexer in batches of 100 messages.
        for (const ib of batches(indexBodies ?? [], 100)) {
          const ir = await fetch(`http://127.0.0.1:${port}/index`, {
            method: "POST",
            body: JSON.stringify(ib),
          });
          if (!ir.ok) throw new Error(`bench worker index: ${ir.status} ${await ir.text()}`);
          const out = await ir.json();
          retried += out.retried ?? 0;
          deadLettered += out.deadLettered ?? 0;
        }
        for (const [s, n] of (metrics.d1RowsByShard ?? []).entries()) rowsByShard[s] += n ?? 0;
      }
    }
    // The group deltas the last batches left pending, folded as the next batch or a reader would.
    {
      const res = await fetch(`http://127.0.0.1:${port}/fold`, { method: "POST", body: "[]" });
      if (!res.ok) throw new Error(`bench worker fold: ${res.status} ${await res.text()}`);
    }
    const seconds = (performance.now() - t0) / 1000;

    // 3. Counted from the databases: each project's occurrences on its own shard, none elsewhere.
    const eventsByShard = [];
    let misplaced = 0;
    let counted = 0;
    let doubled = 0;
    let lost = 0;
    const perProject = new Map();
    for (const [s, db] of shards.entries()) {
      const { results } = await db
        .prepare("SELECT project_id AS p, sum(count) AS n FROM group_hours GROUP BY project_id")
        .all();
      let n = 0;
      for (const r of results) {
        n += r.n;
        if (list[r.p - 1]?.shard !== s) misplaced += r.n;
        perProject.set(r.p, (perProject.get(r.p) ?? 0) + r.n);
      }
      eventsByShard.push(n);
      counted += n;
    }
    for (const p of list) {
      const d = (perProject.get(p.id) ?? 0) - (acceptedBy.get(p.id) ?? 0);
      if (d > 0) doubled += d;
      else lost -= d;
    }
    // The event index: each accepted report once, whatever shard its project's counts live on.
    const indexedBy = new Map(
      (
        await control
          .prepare("SELECT project_id AS p, count(*) AS n FROM search_docs GROUP BY project_id")
          .all()
      ).results.map((r) => [Number(r.p), r.n]),
    );
    let indexed = 0;
    let indexLost = 0;
    let indexDoubled = 0;
    for (const p of list) {
      const n = indexedBy.get(p.id) ?? 0;
      indexed += n;
      const d = n - (acceptedBy.get(p.id) ?? 0);
      if (d > 0) indexDoubled += d;
      else indexLost -= d;
    }
    lost += indexLost;
    doubled += indexDoubled;
    const queueLoad = loadOf(queueEvents);
    const metaLoad = loadOf(eventsByShard);
    const pass =
      lost === 0 &&
      doubled === 0 &&
      misplaced === 0 &&
      queueLoad.used === queueShards &&
      metaLoad.used === metaShards &&
      queueLoad.maxOverMean <= 1.3 &&
      metaLoad.maxOverMean <= 1.3;
    return {
      method:
        "real edge in-process (N error-queue shards, captured sends) → real processor in workerd (Miniflare, on-disk local D1 + R2) with M metadata shards → real indexer (D1 FTS5); counts read back from each shard's group_hours and the event index",
      queueShards,
      metadataShards: metaShards,
      projects,
      reports,
      accepted,
      counted,
      indexed,
      indexLost,
      indexDoubled,
      lost,
      doubled,
      misplaced,
      retried,
      deadLettered,
      eventsPerSecond: Math.round(counted / seconds),
      perQueueShard: queueEvents,
      perMetadataShard: { events: eventsByShard, d1RowsWritten: rowsByShard },
      queueShardsUsed: queueLoad.used,
      metadataShardsUsed: metaLoad.used,
      queueMaxOverMean: queueLoad.maxOverMean,
      metadataMaxOverMean: metaLoad.maxOverMean,
      verdict: pass ? "pass" : "FAIL",
    };
  } finally {
    await mf.dispose();
  }
}
