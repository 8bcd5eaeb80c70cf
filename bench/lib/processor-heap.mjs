// Peak memory (JS heap + external memory, which includes every ArrayBuffer and Buffer) of one
// processor batch of 100 × 50 KB Raygun reports. workerd exposes no heap figure to the worker (no
// performance.memory), so processBatch runs in Node (same bundled code) against Miniflare's local D1
// and R2 through mf.getD1Database / mf.getR2Bucket. A timer cannot fire during synchronous work, so
// it alone could miss a peak: V8's GCProfiler also records heap and external memory just BEFORE
// every garbage collection, wherever it happens. Between collections memory only grows, so the
// maximum over those records, the timer samples and a sample at the end is the true peak.
// Run with --expose-gc. Prints one JSON line.
import { GCProfiler } from "node:v8";
import { Log, LogLevel, Miniflare } from "miniflare";
import { fakeQueue, newStats } from "./fakes.mjs";
import { buildMessages } from "./messages.mjs";
import { applyMigrations, COMPAT, seedProject } from "./miniflare.mjs";

const lib = await import(process.argv[2]);
const MB = 1024 * 1024;
const mf = new Miniflare({
  modules: true,
  script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
  ...COMPAT,
  cf: false,
  log: new Log(LogLevel.WARN),
  d1Databases: { DB: "sluice" },
  r2Buckets: { BLOBS: "sluice-blobs" },
});
try {
  await mf.ready;
  const DB = await mf.getD1Database("DB");
  const BLOBS = await mf.getR2Bucket("BLOBS");
  await applyMigrations(DB);
  await seedProject(DB);
  const qstats = newStats();
  const env = {
    DB,
    BLOBS,
    Q_INDEX: fakeQueue(qstats, "sluice-index"),
    Q_DLQ: fakeQueue(qstats, "sluice-dlq"),
  };
  const runs = [];
  for (let r = 0; r < 4; r++) {
    globalThis.gc();
    globalThis.gc();
    const base = process.memoryUsage();
    const gen = await buildMessages(lib, { errors: 100, fixedBytes: 50 * 1024, seed: 100 + r });
    const bodies = gen.byQueue.get("sluice-errors-0");
    const messages = bodies.map((body, i) => ({
      id: `m${i}`,
      timestamp: new Date(),
      body,
      attempts: 1,
      ack() {},
      retry() {},
    }));
    // Building the messages runs the real edge in this process and leaves ~7 MB of its garbage in
    // the young generation. It is not the processor's, yet it shifted when the batch's scavenges
    // came, so the same code measured 31 or 37 MB from run to run. Collected here (the baseline
    // stays where it was and the bodies stay counted); the batch's own garbage still counts.
    globalThis.gc();
    const batch = { queue: "sluice-errors-0", messages, ackAll() {}, retryAll() {} };
    let peakHeap = 0;
    let peak = 0;
    const sample = () => {
      const m = process.memoryUsage();
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
      if (m.heapUsed + m.external > peak) peak = m.heapUsed + m.external;
    };
    const gcs = new GCProfiler();
    gcs.start();
    const timer = setInterval(sample, 1);
    sample();
    const metrics = await lib.processBatch(batch, env);
    sample();
    clearInterval(timer);
    const { statistics } = gcs.stop();
    for (const g of statistics) {
      const h = g.beforeGC.heapStatistics;
      if (h.usedHeapSize > peakHeap) peakHeap = h.usedHeapSize;
      if (h.usedHeapSize + h.externalMemory > peak) peak = h.usedHeapSize + h.externalMemory;
    }
    globalThis.gc();
    const after = process.memoryUsage();
    const mb = (x) => Math.round((x / MB) * 10) / 10;
    runs.push({
      events: metrics.stored,
      inputMB: mb(bodies.reduce((a, b) => a + b.length, 0)),
      gcsDuringBatch: statistics.length,
      peakHeapMB: mb(peakHeap - base.heapUsed),
      peakMB: mb(peak - base.heapUsed - base.external),
      retainedAfterGcMB: mb(after.heapUsed - base.heapUsed),
    });
  }
  const measured = runs.slice(1); // the first run also pays for JIT/compiled code
  const max = (k) => Math.max(...measured.map((x) => x[k]));
  console.log(
    JSON.stringify({
      method:
        "Node, same bundled code, Miniflare D1/R2 proxies in the same process: heap used + external memory (ArrayBuffers and Buffers included) recorded by V8's GCProfiler before every collection, plus process.memoryUsage() every 1 ms and around processBatch; the figure is that peak minus the post-GC baseline taken before the batch's messages were built (so the input bodies count); the garbage left by building the messages (the in-process edge's) is collected before the batch starts; the batch's own garbage not yet collected counts too (an upper bound).",
      batch: "100 Raygun reports of 50 KB, one message each",
      peakMB: max("peakMB"),
      peakHeapMB: max("peakHeapMB"),
      runs,
    }),
  );
} finally {
  await mf.dispose();
}
