// `npm test`: every test. Starts a real Elasticsearch (scripts/elasticsearch.sh, fetched from Maven
// Central and cached under .cache/) unless SLUICE_TEST_ES_URL points at one, then runs the workerd
// suite (unit + pipeline integration, both search backends) and the end-to-end suite (real SDKs
// and a real headless Chromium against the whole stack). Outside CI, SLUICE_SKIP_ES=1 skips the
// Elasticsearch half of the search tests; in CI nothing is skipped.

import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const es = join(root, "scripts", "elasticsearch.sh");
let startedEs = false;

if (!env.SLUICE_TEST_ES_URL && !(env.SLUICE_SKIP_ES === "1" && !env.CI)) {
  const running = spawnSync("bash", [es, "status"], { cwd: root }).status === 0;
  if (!running) {
    execFileSync("bash", [es, "start"], { cwd: root, stdio: "inherit", env });
    startedEs = true;
  }
  env.SLUICE_TEST_ES_URL = execFileSync("bash", [es, "url"], { cwd: root, env }).toString().trim();
}

const vitest = join(root, "node_modules", ".bin", "vitest");
let failed = false;
const only = process.argv[2]; // "workers" | "e2e" to run one half
for (const [name, config] of [
  ["workers", "vitest.workers.config.ts"],
  ["e2e", "vitest.e2e.config.ts"],
]) {
  if (only && only !== name) continue;
  const r = spawnSync(vitest, ["run", "-c", config], { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) failed = true;
}
if (startedEs) spawnSync("bash", [es, "stop"], { cwd: root, stdio: "inherit" });
process.exit(failed ? 1 : 0);
