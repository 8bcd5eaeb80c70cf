// Runs wrangler for provision/deploy, or, with --dry-run, prints each command instead (and runs
// nothing that needs an account), so the plan can be read and checked without one.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./deploy-plan.mjs";

const WRANGLER = join(root, "node_modules", ".bin", "wrangler");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };

export function wranglerRunner({ dryRun, log = console.log }) {
  return {
    dryRun,
    /** A command that changes the account: printed in a dry run, else run (fails loudly). */
    change(args, { input, secretInput = false } = {}) {
      if (dryRun) {
        log(
          `  $ wrangler ${args.join(" ")}${input === undefined ? "" : secretInput ? " <<< (secret)" : ` <<< ${input}`}`,
        );
        return "";
      }
      const r = spawnSync(WRANGLER, args, { cwd: root, env: ENV, input, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stderr || r.stdout}`);
      return r.stdout;
    },
    /** A read-only look-up; `undefined` in a dry run (nothing is known without an account). */
    query(args) {
      if (dryRun) return undefined;
      const r = spawnSync(WRANGLER, args, { cwd: root, env: ENV, encoding: "utf8" });
      return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
    },
    /** Runs regardless of --dry-run: commands that touch no account (`deploy --dry-run`). */
    local(args) {
      log(`  $ wrangler ${args.join(" ")}`);
      const r = spawnSync(WRANGLER, args, { cwd: root, env: ENV, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stderr || r.stdout}`);
      return r.stdout;
    },
  };
}

/** Whether wrangler can reach an account: an API token, or a `wrangler login` session. */
export function explainLoginIfMissing(runner) {
  if (runner.dryRun || process.env.CLOUDFLARE_API_TOKEN) return true;
  const who = runner.query(["whoami"]);
  if (who.ok && !/not authenticated/i.test(who.stdout + who.stderr)) return true;
  console.error(`wrangler is not logged in to a Cloudflare account. Either:
  - run \`npx wrangler login\` (opens a browser once), or
  - set CLOUDFLARE_API_TOKEN (a token with Workers Scripts, D1, R2, Queues and Account Settings edit
    rights; create it at https://dash.cloudflare.com/profile/api-tokens) and CLOUDFLARE_ACCOUNT_ID,
then run this command again. Add --dry-run to see what it would do without an account.`);
  return false;
}

/**
 * The start of provision and deploy: strict `--dry-run` / `--help` parsing (a typo is an error),
 * the runner, and the login check (skipped in a dry run). Exits when there is nothing to do.
 */
export function startScript(usage) {
  let values;
  try {
    ({ values } = parseArgs({
      options: { "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    console.error(`${err.message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const runner = wranglerRunner({ dryRun: Boolean(values["dry-run"]) });
  if (!explainLoginIfMissing(runner)) process.exit(1);
  return runner;
}
