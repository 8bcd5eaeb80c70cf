// Peak JS heap of one processor batch of 100 × 50 KB Raygun reports. workerd exposes no heap
// figure to the worker (no performance.memory), so processBatch runs in Node (same bundled code)
// against Miniflare's local D1 and R2 through mf.getD1Database / mf.getR2Bucket, and the heap is
// sampled every millisecond (and at every await) with process.memoryUsage(). Run with --expose-gc.
// Prints one JSON line.
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
    const batch = { queue: "sluice-errors-0", messages, ackAll() {}, retryAll() {} };
    let peakHeap = 0;
    let peakHeapPlusBuffers = 0;
    const sample = () => {
      const m = process.memoryUsage();
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
      if (m.heapUsed + m.arrayBuffers > peakHeapPlusBuffers)
        peakHeapPlusBuffers = m.heapUsed + m.arrayBuffers;
    };
    const timer = setInterval(sample, 1);
    sample();
    const metrics = await lib.processBatch(batch, env);
    sample();
    clearInterval(timer);
    globalThis.gc();
    const after = process.memoryUsage();
    runs.push({
      events: metrics.stored,
      inputMB: Math.round((bodies.reduce((a, b) => a + b.length, 0) / MB) * 10) / 10,
      peakHeapMB: Math.round(((peakHeap - base.heapUsed) / MB) * 10) / 10,
      peakHeapPlusArrayBuffersMB:
        Math.round(((peakHeapPlusBuffers - base.heapUsed - base.arrayBuffers) / MB) * 10) / 10,
      retainedAfterGcMB: Math.round(((after.heapUsed - base.heapUsed) / MB) * 10) / 10,
    });
  }
  const measured = runs.slice(1); // the first run also pays for JIT/compiled code
  const max = (k) => Math.max(...measured.map((x) => x[k]));
  console.log(
    JSON.stringify({
      method:
        "Node process.memoryUsage() sampled every 1 ms and around processBatch (same bundled code, Miniflare D1/R2 proxies); peak heapUsed minus the post-GC baseline before the batch's messages were built (so the input bodies count); garbage not yet collected counts too (upper bound).",
      batch: "100 Raygun reports of 50 KB, one message each",
      peakHeapMB: max("peakHeapMB"),
      peakHeapPlusArrayBuffersMB: max("peakHeapPlusArrayBuffersMB"),
      runs,
    }),
  );
} finally {
  await mf.dispose();
}
