// What `npm test` needs beyond node_modules, checked all at once before anything runs: a missing
// tool is listed with the command that installs it, instead of surfacing one at a time as a
// failure minutes into the run.
//
//   node scripts/preflight.mjs [workers|e2e|reliability ...]   (default: everything `npm test` runs)
//
// Elasticsearch itself is not a prerequisite: scripts/elasticsearch.sh fetches it over HTTPS from
// Maven Central into .cache/ (what it needs is a JDK 21+, curl and unzip, unless
// SLUICE_TEST_ES_URL points at a running one).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const ok = (cmd, args) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

/** Each check: which suites need it, whether it is there, and how to get it. */
export const CHECKS = [
  {
    what: "Node.js 20.19 or newer (see .nvmrc)",
    suites: ["workers", "e2e", "reliability"],
    present: () => {
      const [major, minor] = process.versions.node.split(".").map(Number);
      return major > 20 || (major === 20 && minor >= 19);
    },
    install: "nvm install (reads .nvmrc), or https://nodejs.org",
  },
  {
    what: "a JDK 21+ for Elasticsearch (ES_JAVA_HOME, JAVA_HOME, PATH or /usr/lib/jvm)",
    suites: ["workers", "reliability"],
    present: () =>
      Boolean(process.env.SLUICE_TEST_ES_URL) ||
      ok("bash", [join(root, "scripts", "elasticsearch.sh"), "java"]),
    install:
      "a JDK 21+: Debian 13 / Ubuntu 24.04: apt-get install -y openjdk-21-jdk-headless; elsewhere Eclipse Temurin 21+ (adoptium.net) or brew install openjdk@21; then ES_JAVA_HOME=<its home> if it is not found",
  },
  {
    what: "curl (fetches Elasticsearch from Maven Central once)",
    suites: ["workers", "reliability"],
    present: () => Boolean(process.env.SLUICE_TEST_ES_URL) || has("curl"),
    install: "apt-get install -y curl",
  },
  {
    what: "unzip (unpacks the Elasticsearch zip once)",
    suites: ["workers", "reliability"],
    present: () =>
      Boolean(process.env.SLUICE_TEST_ES_URL) ||
      existsSync(join(root, ".cache", "elasticsearch", "elasticsearch-9.4.3", "bin", "elasticsearch")) ||
      has("unzip"),
    install: "apt-get install -y unzip",
  },
  {
    what: "Chromium at /usr/bin/chromium (dashboard and @sentry/browser tests; never a downloaded browser)",
    suites: ["e2e"],
    present: () => existsSync("/usr/bin/chromium"),
    install: "apt-get install -y chromium",
  },
  {
    what: "python3 with venv and ensurepip (the real Python sentry-sdk test)",
    suites: ["e2e"],
    present: () => ok("python3", ["-c", "import venv, ensurepip"]),
    install: "apt-get install -y python3 python3-venv",
  },
];

/** The checks that fail for the given suites. */
export function missing(suites) {
  return CHECKS.filter((c) => c.suites.some((s) => suites.includes(s)) && !c.present());
}

export function report(suites) {
  const gaps = missing(suites);
  if (gaps.length === 0) return 0;
  console.error(`npm test cannot run yet: ${gaps.length} thing(s) missing (nothing was started):\n`);
  for (const g of gaps) console.error(`  ✗ ${g.what}\n      install: ${g.install}\n`);
  console.error('Install them and run npm test again. README "Development" lists every requirement.');
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const suites = process.argv.slice(2);
  process.exitCode = report(suites.length > 0 ? suites : ["workers", "e2e"]);
}
