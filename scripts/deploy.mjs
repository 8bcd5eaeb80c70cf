// `npm run deploy`: applies the D1 migrations remotely, then deploys every worker in dependency
// order (console first: the edge binds it; consumers before the edge that feeds them), each from
// its deploy config (its wrangler.toml with this account's ids, recorded by `npm run provision`),
// and prints the ingest URL and the first project's DSN.
//
//   npm run deploy [-- --dry-run]   --dry-run: print every wrangler command and config, and bundle
//                                   each worker with `wrangler deploy --dry-run` (no account needed;
//                                   CI runs it as `npm run bundle:check`)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readResources, renderDeployConfigs, requiredResources, root } from "./lib/deploy-plan.mjs";
import { startScript } from "./lib/wrangler-runner.mjs";

const w = startScript(
  "Usage: npm run deploy [-- --dry-run]\n\nMigrates D1 and deploys every worker (run npm run provision once first).",
);
const dryRun = w.dryRun;

const resources = readResources();
// The control database first, then every metadata shard the configs bind (DB_SHARD_<n>).
const databases = requiredResources().d1;
const [database] = databases;
for (const name of databases)
  if (!dryRun && !resources.d1?.[name]) {
    console.error(`No id recorded for D1 database "${name}": run \`npm run provision\` first.`);
    process.exit(1);
  }
const configs = renderDeployConfigs(resources.d1 ?? {});
console.log(dryRun ? "Deploy plan (dry run: nothing is deployed)" : "Deploying Sluice");
for (const c of configs) {
  console.log(`deploy config: ${c.deployConfig} (from ${c.config})`);
  if (dryRun) console.log(readFileSync(join(root, c.deployConfig), "utf8").replace(/^/gm, "    | "));
}

for (const name of databases)
  w.change(["d1", "migrations", "apply", name, "--remote", "-c", configs[0].deployConfig]);
let ingestUrl;
for (const c of configs) {
  if (dryRun) {
    w.change(["deploy", "-c", c.deployConfig]);
    // Proves the generated config is valid and the worker bundles, without an account.
    w.local([
      "deploy",
      "--dry-run",
      "-c",
      c.deployConfig,
      "--outdir",
      join(root, ".cache", "bundles", c.name),
    ]);
  } else {
    const out = w.change(["deploy", "-c", c.deployConfig]);
    process.stdout.write(out);
    if (c.name === "edge") ingestUrl = /https:\/\/\S+\.workers\.dev/.exec(out)?.[0];
  }
}

if (dryRun) {
  console.log("every worker bundles with its generated deploy config");
} else {
  const r = w.query([
    "d1",
    "execute",
    database,
    "--remote",
    "-c",
    configs[0].deployConfig,
    "--json",
    "--command",
    "SELECT id, ingest_key FROM projects ORDER BY id LIMIT 1",
  ]);
  const project = r?.ok ? JSON.parse(r.stdout)[0]?.results?.[0] : undefined;
  const host = ingestUrl ? new URL(ingestUrl).host : "<your edge route>";
  console.log(`\nIngest URL: ${ingestUrl ?? "(on the route configured in wrangler.toml)"}`);
  if (project) console.log(`First project's DSN: https://${project.ingest_key}@${host}/${project.id}`);
  console.log(`Dashboard: ${ingestUrl ?? "<edge URL>"}/ui/ (log in with the admin token)`);
}
