// Section 2: the edge bundled (workers/edge/index.ts, as wrangler would) and served by workerd via
// Miniflare's own port, under load from autocannon (an npm dependency: nothing to install), side by
// side with an empty worker that reads the request body and returns 202 on the same runtime (the
// fair floor). Rounds alternate (empty, edge, empty, edge) so drift on a shared machine hits both.
// Beside requests/s, each workerd process's CPU time per request is read from /proc: on a shared,
// loaded machine throughput swings with the neighbours, CPU spent per request much less.
import { readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import autocannon from "autocannon";
import { Log, LogLevel, Miniflare } from "miniflare";
import { bundleForWorkerd } from "./build.mjs";
import { INGEST_KEY } from "./fakes.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort, seedProject } from "./miniflare.mjs";
import { raygunNodeReport } from "./payloads.mjs";

const EMPTY_WORKER =
  "export default { async fetch(request) { await request.arrayBuffer(); return new Response(null, { status: 202 }); } };";
/**
 * A second floor: the empty worker plus one local queue `send` of the body as text (what the edge
 * cannot avoid doing), so the edge's own cost can be told apart from Miniflare's queue broker's.
 */
const SENDER_WORKER = `const failures = {};
export default {
  async fetch(request, env) {
    if (request.method === "GET") {
      // Read and cleared: the warm-up's refusals are not the measured rounds'.
      const seen = { ...failures };
      for (const k of Object.keys(failures)) delete failures[k];
      return Response.json(seen);
    }
    try {
      await env.Q.send(await request.text(), { contentType: "text" });
    } catch (err) {
      const key = String(err?.message ?? err).slice(0, 160);
      failures[key] = (failures[key] ?? 0) + 1;
      return new Response(key, { status: 503 });
    }
    return new Response(null, { status: 202 });
  },
};`;

/**
 * Headers Cloudflare's edge puts on every request it hands a Worker (Miniflare's port does not):
 * the edge reads country and colo from them rather than from `request.cf`, which workerd rebuilds
 * from JSON per request. Sent to the empty worker too, so both parse the same request.
 */
export const CLOUDFLARE_HEADERS = { "cf-ray": "8e2c5b1c1f3a1234-AKL", "cf-ipcountry": "NZ" };

/** CPU ms (user + system) of a process, or null where /proc cannot tell. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return null;
  }
}

/** The workerd processes this process has started (Miniflare spawns one per instance). */
function workerdChildren() {
  try {
    return readdirSync("/proc").filter((d) => {
      if (!/^\d+$/.test(d)) return false;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
        return ppid === String(process.pid) && readFileSync(`/proc/${d}/comm`, "utf8").trim() === "workerd";
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Starts a Miniflare instance and finds its workerd process (null if it cannot be told apart). */
async function started(options) {
  const before = new Set(workerdChildren());
  const mf = new Miniflare(options);
  await mf.ready;
  const fresh = workerdChildren().filter((d) => !before.has(d));
  return { mf, pid: fresh.length === 1 ? fresh[0] : null };
}

async function load(url, body, seconds, connections, pid = null) {
  const cpu0 = pid === null ? null : cpuMs(pid);
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json", "x-apikey": INGEST_KEY, ...CLOUDFLARE_HEADERS },
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
    cpuMs: cpu0 === null ? null : cpuMs(pid) - cpu0,
  };
}

export async function benchEdgeWorkerd({ seconds = 8, connections = 32, rounds = 2 } = {}) {
  const edgeBundle = await bundleForWorkerd("workers/edge/index.ts", "edge");
  const [edgePort, emptyPort, senderPort] = [await freePort(), await freePort(), await freePort()];
  const log = new Log(LogLevel.WARN);
  const edge = await started({
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
  let empty;
  let sender;
  try {
    empty = await started({
      host: "127.0.0.1",
      port: emptyPort,
      log,
      cf: false,
      modules: true,
      script: EMPTY_WORKER,
      ...COMPAT,
    });
    sender = await started({
      host: "127.0.0.1",
      port: senderPort,
      log,
      cf: false,
      workers: [
        {
          name: "sender",
          modules: true,
          script: SENDER_WORKER,
          ...COMPAT,
          queueProducers: { Q: { queueName: "floor-q" } },
        },
        {
          name: "drain",
          modules: true,
          script: DRAIN_WORKER,
          ...COMPAT,
          queueConsumers: { "floor-q": { maxBatchSize: 100, maxBatchTimeout: 0.1 } },
        },
      ],
    });
    const edgeMf = edge.mf;
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
    const senderUrl = `http://127.0.0.1:${senderPort}/`;
    // Warm all three (JIT, project cache).
    await load(edgeUrl, body, 2, connections);
    await load(emptyUrl, body, 1, connections);
    await load(senderUrl, body, 1, connections);
    await fetch(senderUrl);
    const edgeRounds = [];
    const emptyRounds = [];
    const senderRounds = [];
    for (let r = 0; r < rounds; r++) {
      emptyRounds.push(await load(emptyUrl, body, seconds / rounds, connections, empty.pid));
      senderRounds.push(await load(senderUrl, body, seconds / rounds, connections, sender.pid));
      edgeRounds.push(await load(edgeUrl, body, seconds / rounds, connections, edge.pid));
    }
    const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
    const edgeRps = sum(edgeRounds, "requests") / seconds;
    const emptyRps = sum(emptyRounds, "requests") / seconds;
    const cpuPer = (xs) =>
      xs.every((x) => x.cpuMs !== null) ? (sum(xs, "cpuMs") * 1000) / sum(xs, "requests") : null;
    const edgeCpu = cpuPer(edgeRounds);
    const emptyCpu = cpuPer(emptyRounds);
    // Only sends that landed count: a send the local broker refused is no floor.
    const senderRps = (sum(senderRounds, "requests") - sum(senderRounds, "non2xx")) / seconds;
    const senderFailures = await (await fetch(senderUrl)).json();
    const senderCpu = cpuPer(senderRounds);
    return {
      bodyBytes: Buffer.byteLength(body),
      load: `autocannon, ${connections} connections, ${seconds / rounds} s × ${rounds} rounds each, alternating`,
      workerdRps: Math.round(edgeRps),
      emptyWorkerRps: Math.round(emptyRps),
      workerdVsEmptyWorker: Math.round((edgeRps / emptyRps) * 1000) / 1000,
      // The edge's workerd process also runs the local queue broker and the draining consumer.
      cpuUsPerRequest:
        edgeCpu === null || emptyCpu === null
          ? null
          : { edge: Math.round(edgeCpu), emptyWorker: Math.round(emptyCpu) },
      cpuEmptyWorkerVsEdge:
        edgeCpu === null || emptyCpu === null ? null : Math.round((emptyCpu / edgeCpu) * 1000) / 1000,
      // The second floor (read, one queue send): not the goal's reference, a decomposition of the gap.
      queueSenderRps: Math.round(senderRps),
      workerdVsQueueSender: Math.round((edgeRps / senderRps) * 1000) / 1000,
      senderCpuUsPerRequest: senderCpu === null ? null : Math.round(senderCpu),
      senderNon2xx: sum(senderRounds, "non2xx"),
      senderFailures,
      senderErrors: sum(senderRounds, "errors"),
      edgeNon2xx: sum(edgeRounds, "non2xx"),
      emptyNon2xx: sum(emptyRounds, "non2xx"),
      edgeErrors: sum(edgeRounds, "errors"),
      emptyErrors: sum(emptyRounds, "errors"),
      rounds: { edge: edgeRounds, empty: emptyRounds, sender: senderRounds },
    };
  } finally {
    await Promise.allSettled([edge.mf.dispose(), empty?.mf.dispose(), sender?.mf.dispose()]);
  }
}
