// Section 3: the processor's batch path (workers/processor/process-batch.ts) inside workerd, via a
// small bench worker (bench/processor-worker.ts) on Miniflare with on-disk local D1 and R2 (as
// `npm start` has them) and real local queues for the index and dead-letter sends.
import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";
import { BENCH, bundleForWorkerd, scratch } from "./build.mjs";
import { batches, buildMessages, itemsIn, workloadMix } from "./messages.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort, seedProject } from "./miniflare.mjs";

const run = promisify(execFile);

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const r2 = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchProcessor(
  lib,
  libPath,
  { errors = 5000, rumEvents = 2500, heap = true, concurrency = 16 } = {},
) {
  const notes = [];
  const mix = await workloadMix(lib);
  const sentry = mix.sentryEdge && mix.sentryProcessor;
  if (!mix.sentryEdge)
    notes.push("Sentry events not in the mix: the edge does not serve /api/:id/envelope/ yet.");
  else if (!mix.sentryProcessor)
    notes.push(
      `Sentry events not in the mix: the edge accepts envelopes but the processor has no Sentry preparer yet (preparers: ${mix.preparers.join(", ")}).`,
    );
  const gen = await buildMessages(lib, { errors, rumEvents, seed: 7, sentry, concurrency });

  const bundle = await bundleForWorkerd("bench/processor-worker.ts", "processor-bench");
  const state = scratch(`processor-state-${concurrency}`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
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
        d1Databases: { DB: "sluice" },
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
    const db = await mf.getD1Database("DB", "processor-bench");
    await applyMigrations(db);
    await seedProject(db);
    if (gen.blobs.size > 0) {
      const bucket = await mf.getR2Bucket("BLOBS", "processor-bench");
      for (const [k, v] of gen.blobs) await bucket.put(k, v);
    }
    const perQueue = {};
    const all = {
      d1ms: 0,
      r2ms: 0,
      qms: 0,
      byStatement: {},
      ms: [],
      wall: [],
      items: 0,
      stored: 0,
      r2: 0,
      d1w: 0,
      d1wReported: 0,
      d1r: 0,
      idx: 0,
      dl: 0,
      retried: 0,
    };
    // One warm-up batch per queue (JIT, SQLite page cache), not counted.
    for (const [queue, bodies] of gen.byQueue) {
      const list = batches(bodies, 100);
      const warm = list.shift();
      await post(port, queue, warm);
      const q = { batches: 0, items: 0, ms: 0, r2: 0, d1w: 0, d1r: 0, idx: 0, messages: 0 };
      for (const b of list) {
        const t0 = performance.now();
        const res = await post(port, queue, b);
        const wall = performance.now() - t0;
        const m = res.metrics;
        all.ms.push(res.ms);
        all.d1ms += res.d1.ms;
        all.r2ms += res.r2.ms;
        all.qms += res.queues.ms;
        for (const [k, v] of Object.entries(res.d1.byStatement)) {
          const s = (all.byStatement[k] ??= { read: 0, written: 0, n: 0 });
          s.read += v.read;
          s.written += v.written;
          s.n += v.n;
        }
        all.wall.push(wall);
        all.items += m.items;
        all.stored += m.stored;
        all.r2 += m.r2Writes;
        all.d1w += res.d1.rowsWritten;
        all.d1wReported += m.d1RowsWritten;
        all.d1r += res.d1.rowsRead;
        all.idx += m.indexMessages;
        all.dl += m.deadLettered;
        all.retried += m.retried;
        q.batches++;
        q.messages += b.length;
        q.items += m.items;
        q.ms += res.ms;
        q.r2 += m.r2Writes;
        q.d1w += res.d1.rowsWritten;
        q.d1r += res.d1.rowsRead;
        q.idx += m.indexMessages;
      }
      perQueue[queue] = {
        batches: q.batches,
        events: q.items,
        eventsPerMessage: r2(q.items / q.messages),
        eventsPerSecond: Math.round(q.items / (q.ms / 1000)),
        msPerEvent: r2(q.ms / q.items, 4),
        r2WritesPerEvent: r2(q.r2 / q.items, 4),
        d1RowsWrittenPerEvent: r2(q.d1w / q.items, 3),
        d1RowsReadPerEvent: r2(q.d1r / q.items, 3),
        indexMessagesPerEvent: r2(q.idx / q.items, 4),
      };
    }
    if (all.dl > 0 || all.retried > 0 || all.stored !== all.items)
      notes.push(
        `processor: ${all.dl} dead-lettered, ${all.retried} retried, ${all.stored}/${all.items} stored`,
      );
    const totalMs = all.ms.reduce((a, b) => a + b, 0);
    const totalWall = all.wall.reduce((a, b) => a + b, 0);
    const result = {
      method:
        "processBatch in workerd (Miniflare, on-disk local D1 + R2, real local queues), sequential batches of 100 messages; time = performance.now() around processBatch inside the worker",
      mix: gen.kinds,
      clientsInFlight: concurrency,
      eventsPerMessage: r2(all.items / [...gen.byQueue.values()].reduce((n, b) => n + b.length, 0)),
      events: all.items,
      stored: all.stored,
      batches: all.ms.length,
      eventsPerSecond: Math.round(all.items / (totalMs / 1000)),
      eventsPerSecondWall: Math.round(all.items / (totalWall / 1000)),
      r2WritesPerEvent: r2(all.r2 / all.items, 4),
      d1RowsWrittenPerEvent: r2(all.d1w / all.items, 3),
      d1RowsWrittenPerEventProcessorMetric: r2(all.d1wReported / all.items, 3),
      d1RowsReadPerEvent: r2(all.d1r / all.items, 3),
      indexMessagesPerEvent: r2(all.idx / all.items, 4),
      batchP50Ms: r2(pct(all.ms, 50), 1),
      batchP99Ms: r2(pct(all.ms, 99), 1),
      perQueue,
      timeBreakdownPct: {
        d1Batch: r2((100 * all.d1ms) / totalMs, 1),
        r2Put: r2((100 * all.r2ms) / totalMs, 1),
        queueSends: r2((100 * all.qms) / totalMs, 1),
        prepareEncodeAndOther: r2((100 * (totalMs - all.d1ms - all.r2ms - all.qms)) / totalMs, 1),
      },
      d1ByStatementPerEvent: Object.fromEntries(
        Object.entries(all.byStatement).map(([k, v]) => [
          k,
          { rowsRead: r2(v.read / all.items, 2), rowsWritten: r2(v.written / all.items, 3) },
        ]),
      ),
      peakHeapMB: null,
      heap: null,
      notes,
    };
    if (heap) {
      const { stdout } = await run(
        process.execPath,
        ["--expose-gc", join(BENCH, "lib", "processor-heap.mjs"), libPath],
        { maxBuffer: 1 << 22, timeout: 180_000 },
      );
      const h = JSON.parse(stdout.trim().split("\n").pop());
      result.heap = h;
      result.peakHeapMB = h.peakHeapMB;
    }
    return result;
  } finally {
    await mf.dispose();
  }
}

async function post(port, queue, bodies) {
  const res = await fetch(`http://127.0.0.1:${port}/batch?queue=${queue}`, {
    method: "POST",
    body: JSON.stringify(bodies),
  });
  if (!res.ok) throw new Error(`bench worker: ${res.status} ${await res.text()}`);
  return res.json();
}

export { itemsIn };
