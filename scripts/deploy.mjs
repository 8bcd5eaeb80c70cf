// `npm run deploy`: applies D1 migrations remotely and deploys every worker (console first, since
// the edge binds to it). `npm run bundle:check` (`--dry-run`) bundles every worker without
// deploying, which CI runs to prove each one builds. Resources (queues, bucket, database, secrets)
// are created once by hand: see README "Deploy".

import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const dryRun = process.argv.includes("--dry-run");
const WORKERS = [
  ["console", "workers/console/wrangler.toml"],
  ["indexer", "workers/indexer/wrangler.toml"],
  ["processor", "workers/processor/wrangler.toml"],
  ["edge", "wrangler.toml"],
];
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const run = (args) => execFileSync(wrangler, args, { cwd: root, stdio: "inherit", env });

if (!dryRun) run(["d1", "migrations", "apply", "sluice", "--remote", "-c", "wrangler.toml"]);
for (const [name, config] of WORKERS) {
  if (dryRun) run(["deploy", "--dry-run", "-c", config, "--outdir", join(root, ".cache", "bundles", name)]);
  else run(["deploy", "-c", config]);
}
console.log(dryRun ? "every worker bundles" : "deployed");
