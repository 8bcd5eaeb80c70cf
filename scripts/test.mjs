// `npm test`: every test. First checks, all at once, what the suites need beyond node_modules
// (scripts/preflight.mjs) and stops with the install commands if anything is missing. Then starts
// a real Elasticsearch (scripts/elasticsearch.sh, fetched from Maven Central and cached under
// .cache/) unless SLUICE_TEST_ES_URL points at one, runs the workerd suite (unit + pipeline
// integration, both search backends) and the end-to-end suite (real SDKs and a real headless
// Chromium against the whole stack). Outside CI, SLUICE_SKIP_ES=1 skips the Elasticsearch half of
// the search tests; in CI nothing is skipped.
//
//   npm test                 everything
//   npm run test:workers     the workerd suite      (node scripts/test.mjs workers)
//   npm run test:e2e         the end-to-end suite   (node scripts/test.mjs e2e)
//   npm run test:reliability hostile input, faults, security (node scripts/test.mjs reliability)
//   npm run test:workers -- shared/policy    any vitest arguments after the suite name (one file, -t NAME, ...)

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { report } from "./preflight.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Suite name → its vitest configs; `npm test` runs the first two, `reliability` only when named. */
const SUITES = [
  ["workers", ["vitest.workers.config.ts"]],
  ["e2e", ["vitest.e2e.config.ts"]],
  [
    "reliability",
    ["vitest.reliability.config.ts", "vitest.reliability-es.config.ts", "vitest.reliability-e2e.config.ts"],
  ],
];
const DEFAULT = ["workers", "e2e"];
const [only, ...vitestArgs] = process.argv.slice(2);
if (only && !SUITES.some(([name]) => name === only)) {
  console.error(`unknown suite "${only}": use one of ${SUITES.map(([n]) => n).join(", ")}`);
  process.exit(2);
}
const selected = SUITES.filter(([name]) => (only ? only === name : DEFAULT.includes(name)));
if (report(selected.map(([name]) => name)) !== 0) process.exit(1);

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  VITE_CONFIG_NATIVE_IGNORE_WARNING: "true",
  // Output goes through the noise filter below (a pipe): keep vitest's colours on a terminal.
  ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}),
};
const es = join(root, "scripts", "elasticsearch.sh");
let startedEs = false;

// Every suite has tests against the real Elasticsearch (the workers' conformance, the e2e setup
// checks, the fault suite's Elasticsearch run).
const needsEs = selected.length > 0;
if (needsEs && !env.SLUICE_TEST_ES_URL && !(env.SLUICE_SKIP_ES === "1" && !env.CI)) {
  const running = spawnSync("bash", [es, "status"], { cwd: root }).status === 0;
  if (!running) {
    execFileSync("bash", [es, "start"], { cwd: root, stdio: "inherit", env });
    startedEs = true;
  }
  env.SLUICE_TEST_ES_URL = execFileSync("bash", [es, "url"], { cwd: root, env }).toString().trim();
}

/**
 * workerd logs `web-socket.c++:821: disconnected: WebSocket peer disconnected` each time the
 * vitest pool closes a test file's connection (the pool filters its siblings, not this one): dozens
 * of lines of no signal that drown a real failure. Only that exact line is dropped.
 */
const NOISE = /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/;
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

function forward(from, to) {
  createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
    if (!NOISE.test(line.replace(ANSI, ""))) to.write(`${line}\n`);
  });
}

function runVitest(config) {
  return new Promise((resolve) => {
    const vitest = join(root, "node_modules", ".bin", "vitest");
    const child = spawn(vitest, ["run", "-c", config, ...vitestArgs], {
      cwd: root,
      env,
      stdio: ["inherit", "pipe", "pipe"],
    });
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

let failed = false;
for (const [, configs] of selected) {
  for (const config of configs) if ((await runVitest(config)) !== 0) failed = true;
}
if (startedEs) spawnSync("bash", [es, "stop"], { cwd: root, stdio: "inherit" });
process.exit(failed ? 1 : 0);
