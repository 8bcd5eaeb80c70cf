// Runs `npm ci` when node_modules is missing, so `npm start` and `npm test` work on a fresh clone.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "node_modules", ".package-lock.json"))) {
  console.log("node_modules is missing: running npm ci");
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
}
