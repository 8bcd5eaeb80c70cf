// `npm run provision`: creates in your Cloudflare account whatever Sluice needs and is missing —
// the D1 databases (control and metadata shards), the R2 bucket, every queue the workers bind (all kinds and shards, the index
// and dead-letter queues) — records the D1 id in .sluice/resources.json (read by the generated
// deploy configs), applies the D1 migrations, sets the admin token secret (generated and printed
// once unless ADMIN_TOKEN is set), makes sure a first project exists, and prints what to run next.
// Idempotent: run it again and it creates nothing twice.
//
//   npm run provision [-- --dry-run]    --dry-run: print every wrangler command and config, touch nothing

import { randomBytes } from "node:crypto";
import {
  RESOURCES_FILE,
  readResources,
  renderDeployConfigs,
  requiredResources,
  writeResources,
} from "./lib/deploy-plan.mjs";
import { startScript } from "./lib/wrangler-runner.mjs";

const w = startScript(
  "Usage: npm run provision [-- --dry-run]\n\nCreates the Cloudflare resources Sluice needs (idempotent).",
);
const dryRun = w.dryRun;

const need = requiredResources();
const resources = readResources();
console.log(dryRun ? "Provisioning plan (dry run: nothing is created)" : "Provisioning Sluice");

// D1: find by name, create when missing, record the id.
const listed = w.query(["d1", "list", "--json"]);
const existing = listed?.ok ? JSON.parse(listed.stdout) : [];
for (const name of need.d1) {
  let db = existing.find((d) => d.name === name);
  if (!db) {
    console.log(`D1 database ${name}: creating`);
    w.change(["d1", "create", name]);
    const again = w.query(["d1", "list", "--json"]);
    db = again?.ok ? JSON.parse(again.stdout).find((d) => d.name === name) : undefined;
  } else console.log(`D1 database ${name}: exists (${db.uuid})`);
  if (db) resources.d1[name] = db.uuid;
}

// R2 buckets.
const buckets = w.query(["r2", "bucket", "list"]);
for (const name of need.r2) {
  if (buckets?.ok && new RegExp(`name:\\s+${name}\\s*$`, "m").test(buckets.stdout)) {
    console.log(`R2 bucket ${name}: exists`);
  } else {
    console.log(`R2 bucket ${name}: creating`);
    w.change(["r2", "bucket", "create", name]);
  }
}

// Queues (every kind and shard the configs bind, the index queue and the dead-letter queue).
for (const name of need.queues) {
  const info = w.query(["queues", "info", name]);
  if (info?.ok) console.log(`queue ${name}: exists`);
  else {
    console.log(`queue ${name}: creating`);
    w.change(["queues", "create", name]);
  }
}

if (!dryRun) writeResources(resources);
console.log(`resource ids ${dryRun ? "would be recorded" : "recorded"} in ${RESOURCES_FILE}`);
const configs = renderDeployConfigs(dryRun ? {} : resources.d1);
for (const c of configs) console.log(`deploy config: ${c.deployConfig} (from ${c.config})`);
const consoleConfig = configs.find((c) => c.name === "console").deployConfig;

// Schema first: the first project is a row of it. The control database and every metadata shard
// (DB_SHARD_<n>, bound by the console and the processor) get the same migrations.
for (const name of need.d1) w.change(["d1", "migrations", "apply", name, "--remote", "-c", consoleConfig]);

// The admin token: kept if already set, else ADMIN_TOKEN from the environment, else generated.
const secrets = w.query(["secret", "list", "-c", consoleConfig, "--format", "json"]);
const hasToken = secrets?.ok && JSON.parse(secrets.stdout || "[]").some((s) => s.name === "ADMIN_TOKEN");
let printedToken;
if (hasToken) console.log("secret ADMIN_TOKEN: already set (rotate: see docs/operating.md)");
else {
  const token = process.env.ADMIN_TOKEN || randomBytes(24).toString("hex");
  w.change(["secret", "put", "ADMIN_TOKEN", "-c", consoleConfig], { input: token, secretInput: true });
  if (!process.env.ADMIN_TOKEN) printedToken = dryRun ? "(generated at provisioning, printed once)" : token;
}

// A first project, so that there is a DSN to paste right away.
const sql = (command) => [
  "d1",
  "execute",
  need.d1[0],
  "--remote",
  "-c",
  consoleConfig,
  "--json",
  "--command",
  command,
];
const firstProject = () => {
  const r = w.query(sql("SELECT id, ingest_key FROM projects ORDER BY id LIMIT 1"));
  return r?.ok ? JSON.parse(r.stdout)[0]?.results?.[0] : undefined;
};
let project = firstProject();
if (!project) {
  const key = randomBytes(16).toString("hex");
  const now = Date.now();
  w.change(
    sql(
      `INSERT INTO projects (name, ingest_key, settings, created_at, updated_at) VALUES ('default', '${key}', '{}', ${now}, ${now})`,
    ),
  );
  project = firstProject() ?? { id: 1, ingest_key: key };
}

console.log("");
if (printedToken) console.log(`Admin token (shown once; store it in your password manager): ${printedToken}`);
console.log(`First project: id ${project.id}, ingest key ${project.ingest_key}`);
console.log(
  `Its DSN, once deployed: https://${project.ingest_key}@<ingest host>/${project.id}  (npm run deploy prints the host)`,
);
console.log("Next: npm run deploy");
