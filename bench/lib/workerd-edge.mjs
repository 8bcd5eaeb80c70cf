// Section 2: the edge bundled (workers/edge/index.ts, as wrangler would) and served by workerd via
// Miniflare's own port, under load from autocannon (an npm dependency: nothing to install), side by
// side with an empty worker that reads the request body and returns 202 on the same runtime (the
// fair floor). Rounds alternate (empty, edge, empty, edge) so drift on a shared machine hits both.
import { dirname } from "node:path";
import autocannon from "autocannon";
import { Log, LogLevel, Miniflare } from "miniflare";
import { bundleForWorkerd } from "./build.mjs";
import { INGEST_KEY } from "./fakes.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort, seedProject } from "./miniflare.mjs";
import { raygunNodeReport } from "./payloads.mjs";

const EMPTY_WORKER =
  "export default { async fetch(request) { await request.arrayBuffer(); return new Response(null, { status: 202 }); } };";

async function load(url, body, seconds, connections) {
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json", "x-apikey": INGEST_KEY },
    body,
    connections,
    duration: seconds,
  });
  return {
    rps: r.requests.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    latencyAvg: `${r.latency.average}ms`,
    latencyP99Ms: r.latency.p99,
  };
}

export async function benchEdgeWorkerd({ seconds = 8, connections = 32, rounds = 2 } = {}) {
  const edgeBundle = await bundleForWorkerd("workers/edge/index.ts", "edge");
  const [edgePort, emptyPort] = [await freePort(), await freePort()];
  const log = new Log(LogLevel.WARN);
  const edgeMf = new Miniflare({
    host: "127.0.0.1",
    port: edgePort,
    log,
    cf: false,
    workers: [
      {
        name: "sluice-edge",
        modules: true,
        scriptPath: edgeBundle,
        modulesRoot: dirname(edgeBundle),
        ...COMPAT,
        d1Databases: { DB: "sluice" },
        r2Buckets: { BLOBS: "sluice-blobs" },
        queueProducers: {
          Q_ERRORS_0: { queueName: "sluice-errors-0" },
          Q_RUM_0: { queueName: "sluice-rum-0" },
          Q_TELEMETRY_0: { queueName: "sluice-telemetry-0" },
        },
        bindings: {
          QUEUE_SHARDS: '{"errors":1,"rum":1,"telemetry":1}',
          PROJECT_CACHE_TTL_SECONDS: "30",
          ADMIN_TOKEN: "x",
        },
        serviceBindings: { CONSOLE: "drain" },
      },
      {
        name: "drain",
        modules: true,
        script: DRAIN_WORKER,
        ...COMPAT,
        queueConsumers: {
          "sluice-errors-0": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
          "sluice-rum-0": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
          "sluice-telemetry-0": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
        },
      },
    ],
  });
  const emptyMf = new Miniflare({
    host: "127.0.0.1",
    port: emptyPort,
    log,
    cf: false,
    modules: true,
    script: EMPTY_WORKER,
    ...COMPAT,
  });
  try {
    await Promise.all([edgeMf.ready, emptyMf.ready]);
    const db = await edgeMf.getD1Database("DB", "sluice-edge");
    await applyMigrations(db);
    await seedProject(db);
    const body = JSON.stringify(raygunNodeReport({ bytes: 5120, g: 3, id: 1 }));
    const edgeUrl = `http://127.0.0.1:${edgePort}/entries`;
    const check = await fetch(edgeUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-apikey": INGEST_KEY },
      body,
    });
    if (check.status !== 202) throw new Error(`workerd edge answered ${check.status}: ${await check.text()}`);
    const emptyUrl = `http://127.0.0.1:${emptyPort}/`;
    // Warm both (JIT, project cache).
    await load(edgeUrl, body, 2, connections);
    await load(emptyUrl, body, 1, connections);
    const edge = [];
    const empty = [];
    for (let r = 0; r < rounds; r++) {
      empty.push(await load(emptyUrl, body, seconds / rounds, connections));
      edge.push(await load(edgeUrl, body, seconds / rounds, connections));
    }
    const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
    const edgeRps = sum(edge, "requests") / seconds;
    const emptyRps = sum(empty, "requests") / seconds;
    return {
      bodyBytes: Buffer.byteLength(body),
      load: `autocannon, ${connections} connections, ${seconds / rounds} s × ${rounds} rounds each, alternating`,
      workerdRps: Math.round(edgeRps),
      emptyWorkerRps: Math.round(emptyRps),
      workerdVsEmptyWorker: Math.round((edgeRps / emptyRps) * 1000) / 1000,
      edgeNon2xx: sum(edge, "non2xx"),
      emptyNon2xx: sum(empty, "non2xx"),
      edgeErrors: sum(edge, "errors"),
      emptyErrors: sum(empty, "errors"),
      rounds: { edge, empty },
    };
  } finally {
    await Promise.allSettled([edgeMf.dispose(), emptyMf.dispose()]);
  }
}
