// Section 2: the edge bundled (workers/edge/index.ts, as wrangler would) and served by workerd via
// Miniflare's own port, under wrk, side by side with an empty worker returning 202 on the same
// runtime. Rounds alternate (empty, edge, empty, edge) so drift on a shared machine hits both.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";
import { bundleForWorkerd, scratch } from "./build.mjs";
import { INGEST_KEY } from "./fakes.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort, seedProject } from "./miniflare.mjs";
import { raygunNodeReport } from "./payloads.mjs";

const run = promisify(execFile);

function luaScript(body) {
  const path = scratch(`post-${Date.now()}.lua`);
  writeFileSync(
    path,
    `wrk.method = "POST"
wrk.body = [==[${body}]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-ApiKey"] = "${INGEST_KEY}"
`,
  );
  return path;
}

function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const errors = /Socket errors:(.*)/.exec(out)?.[1]?.trim() ?? null;
  const lat = (p) => /Latency\s+([\d.]+\w+)/.exec(out)?.[p] ?? null;
  return { rps, requests, non2xx, socketErrors: errors, latencyAvg: lat(1) };
}

async function wrk(url, lua, seconds, connections) {
  const { stdout } = await run("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "-s", lua, url], {
    maxBuffer: 1 << 20,
  });
  return parseWrk(stdout);
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
    script: "export default { fetch() { return new Response(null, { status: 202 }); } };",
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
    const lua = luaScript(body);
    // Warm both (JIT, project cache).
    await wrk(edgeUrl, lua, 2, connections);
    await wrk(`http://127.0.0.1:${emptyPort}/`, lua, 1, connections);
    const edge = [];
    const empty = [];
    for (let r = 0; r < rounds; r++) {
      empty.push(await wrk(`http://127.0.0.1:${emptyPort}/`, lua, seconds / rounds, connections));
      edge.push(await wrk(edgeUrl, lua, seconds / rounds, connections));
    }
    const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
    const edgeRps = sum(edge, "requests") / seconds;
    const emptyRps = sum(empty, "requests") / seconds;
    return {
      bodyBytes: Buffer.byteLength(body),
      wrk: `wrk -t1 -c${connections} -d${seconds / rounds}s × ${rounds} rounds each, alternating`,
      workerdRps: Math.round(edgeRps),
      emptyWorkerRps: Math.round(emptyRps),
      workerdVsEmptyWorker: Math.round((edgeRps / emptyRps) * 1000) / 1000,
      edgeNon2xx: sum(edge, "non2xx"),
      emptyNon2xx: sum(empty, "non2xx"),
      rounds: { edge, empty },
    };
  } finally {
    await Promise.allSettled([edgeMf.dispose(), emptyMf.dispose()]);
  }
}
