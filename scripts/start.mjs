// `npm start`: the whole pipeline locally. Applies D1 migrations to local state (the control database
// and 2 metadata shards), runs the edge, processor, indexer, console and alerter in ONE `wrangler dev` (local D1, R2 and Queues; search on D1 FTS5
// unless ELASTICSEARCH_URL is set), makes sure a demo project exists, and prints how to use it.
//
// With ELASTICSEARCH_URL set, it first runs `npm run search:setup` (installs the index template
// idempotently, checks existing indices) and refuses to start if Elasticsearch is not usable.
//
// Options (env): PORT (8787), SLUICE_STATE_DIR (.wrangler/state), ADMIN_TOKEN (dev-admin-token),
// ELASTICSEARCH_URL / ELASTICSEARCH_API_KEY / ELASTICSEARCH_USERNAME / ELASTICSEARCH_PASSWORD,
// ELASTICSEARCH_INDEX_PREFIX (sluice-events), ALLOW_PRIVATE_ALERT_TARGETS (true here),
// ALERT_RETRY_DELAYS / ALERT_TIMEOUT_MS (the alerter's backoff and per-attempt timeout),
// SLUICE_LOG_LEVEL (wrangler's --log-level, default "info"; "warn" for benchmarks).

import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const host = "127.0.0.1";
const state = process.env.SLUICE_STATE_DIR ?? join(root, ".wrangler", "state");
const adminToken = process.env.ADMIN_TOKEN || "dev-admin-token";
const base = `http://${host}:${port}`;
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const CONFIGS = [
  "wrangler.toml",
  "workers/processor/wrangler.toml",
  "workers/indexer/wrangler.toml",
  "workers/console/wrangler.toml",
  "workers/alerter/wrangler.toml",
];

const quietEnv = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

// The control database, then the 2 metadata shards the processor and console bind (DB_SHARD_0/1:
// every project's groups and aggregates live on one of them, so routing is always exercised).
for (const [database, config] of [
  ["sluice", "wrangler.toml"],
  ["sluice-meta-0", "workers/processor/wrangler.toml"],
  ["sluice-meta-1", "workers/processor/wrangler.toml"],
])
  execFileSync(
    wrangler,
    ["d1", "migrations", "apply", database, "--local", "--persist-to", state, "-c", config],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...quietEnv, CI: "true" },
    },
  );

// Elasticsearch is the event index when configured: never serve with a mapping that would make
// every search fail. search-setup prints what is wrong and what to run.
if (process.env.ELASTICSEARCH_URL) {
  try {
    execFileSync(process.execPath, [join(root, "scripts", "search-setup.mjs")], {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: process.env,
    });
  } catch {
    console.error(
      "npm start: Elasticsearch is not ready for Sluice (see above); fix it, or unset ELASTICSEARCH_URL to use D1 full-text search",
    );
    process.exit(1);
  }
}

// Auxiliary workers of a multi-config `wrangler dev` only see variables through the process
// environment, so wrangler gets a curated one: only what the workers need, never the caller's
// whole environment (which may hold unrelated secrets).
// Alerts: a local receiver is a private address, so npm start allows them unless told otherwise.
const workerVars = {
  ADMIN_TOKEN: adminToken,
  ALLOW_PRIVATE_ALERT_TARGETS: process.env.ALLOW_PRIVATE_ALERT_TARGETS ?? "true",
  DASHBOARD_URL: base,
};
for (const name of [
  "ALERT_RETRY_DELAYS",
  "ALERT_TIMEOUT_MS",
  "ELASTICSEARCH_URL",
  "ELASTICSEARCH_API_KEY",
  "ELASTICSEARCH_USERNAME",
  "ELASTICSEARCH_PASSWORD",
  "ELASTICSEARCH_INDEX_PREFIX",
]) {
  if (process.env[name]) workerVars[name] = process.env[name];
}
const childEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  TMPDIR: process.env.TMPDIR ?? "/tmp",
  ...quietEnv,
  CLOUDFLARE_INCLUDE_PROCESS_ENV: "true",
  // Each stack keeps its own dev registry: another wrangler dev starting or stopping on the same
  // machine (a second stack, a test's own) would otherwise make this one reload its runtime
  // mid-request ("Your worker restarted mid-request").
  WRANGLER_REGISTRY_PATH: join(state, "dev-registry"),
  ...workerVars,
};

const args = [
  "dev",
  ...CONFIGS.flatMap((c) => ["-c", c]),
  "--persist-to",
  state,
  "--port",
  String(port),
  "--ip",
  host,
];
args.push("--log-level", process.env.SLUICE_LOG_LEVEL ?? "info", "--show-interactive-dev-session=false");
const dev = spawn(wrangler, args, { cwd: root, env: childEnv, stdio: ["ignore", "inherit", "inherit"] });
const stop = () => dev.kill("SIGTERM");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.on("exit", (code) => process.exit(code ?? 0));

async function waitForHealth() {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("wrangler dev did not become healthy within 60 s");
}

async function adminApi(path, init = {}) {
  const r = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
  });
  if (!r.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

try {
  await waitForHealth();
  const { projects } = await adminApi("/api/v1/projects");
  const demo =
    projects.find((p) => p.name === "demo") ??
    (await adminApi("/api/v1/projects", { method: "POST", body: JSON.stringify({ name: "demo" }) }));
  const sample = JSON.stringify({
    occurredOn: new Date().toISOString(),
    details: {
      error: {
        className: "Error",
        message: "Hello from curl",
        stackTrace: [{ lineNumber: 1, methodName: "main", fileName: "app.js" }],
      },
    },
  });
  console.log(`
  Sluice is running at ${base}   (dashboard: ${base}/ui/)

  Admin token:    ${adminToken}
  Demo project:   id ${demo.id}
  Ingest key:     ${demo.key}      (Raygun X-ApiKey)
  Sentry DSN:     ${demo.dsn}
  Search backend: ${workerVars.ELASTICSEARCH_URL ? `Elasticsearch at ${workerVars.ELASTICSEARCH_URL}` : "D1 full-text search (set ELASTICSEARCH_URL for Elasticsearch)"}

  Send a crash report:
    curl -i -X POST '${base}/entries' -H 'X-ApiKey: ${demo.key}' -d '${sample}'
  See its group:
    curl -s -H 'Authorization: Bearer ${adminToken}' ${base}/api/v1/projects/${demo.id}/groups
`);
  console.log(`SLUICE_READY ${JSON.stringify({ url: base, adminToken, project: demo })}`);
} catch (err) {
  console.error(`npm start failed: ${err.message}`);
  stop();
  process.exitCode = 1;
}
