// `npm run test:reliability`: the workerd half (vitest.reliability.config.ts) and the Node half
// against `wrangler dev` (vitest.reliability-e2e.config.ts), both run even if the first fails, then
// one summary per protocol built from the `RELIABILITY {...}` figures lines the suites print:
// inputs tried, 5xx, crashes, events of other tenants lost (must be 0), slowest item and request.
// Extra arguments go to vitest (e.g. a file filter).
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const vitest = join(root, "node_modules", ".bin", "vitest");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal colour codes vitest prints
const ANSI = /\x1b\[[0-9;]*m/g;

/** Runs one vitest config, echoing its output, and collects the figures lines. */
function run(config, figures) {
  return new Promise((resolve) => {
    const args = process.argv.slice(2);
    // A file filter may match files of one half only.
    const extra = args.length > 0 ? [...args, "--passWithNoTests"] : [];
    const child = spawn(vitest, ["run", "-c", config, ...extra], {
      cwd: root,
      env,
      stdio: ["inherit", "pipe", "inherit"],
    });
    let pending = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /RELIABILITY (\{.*\})\s*$/.exec(line.replace(ANSI, ""));
        if (!m) continue;
        try {
          figures.push(JSON.parse(m[1]));
        } catch {
          console.error(`unreadable figures line: ${line.slice(0, 200)}`);
        }
      }
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}

const sum = (rows, k) => rows.reduce((n, r) => n + (typeof r[k] === "number" ? r[k] : 0), 0);
const max = (rows, k) => {
  const values = rows.map((r) => r[k]).filter((v) => typeof v === "number" && Number.isFinite(v));
  return values.length > 0 ? Math.max(...values) : null;
};

function summary(figures) {
  const rows = figures.filter((f) => f.protocol === "raygun" || f.protocol === "sentry");
  const out = [
    "",
    "Reliability summary: hostile input per protocol (in process and over HTTP against wrangler dev)",
  ];
  const head = [
    "protocol",
    "run",
    "inputs",
    "5xx",
    "crashes",
    "victim sent",
    "victim lost",
    "slowest item ms",
    "slowest request ms",
  ];
  const table = [head];
  for (const protocol of ["raygun", "sentry"]) {
    const mine = rows.filter((r) => r.protocol === protocol);
    const line = (label, rs) => {
      const lost = rs.some((r) => typeof r.victimLost === "number") ? sum(rs, "victimLost") : "not measured";
      return [
        protocol,
        label,
        sum(rs, "inputs"),
        sum(rs, "fivexx"),
        sum(rs, "crashes"),
        sum(rs, "victimSent"),
        lost,
        max(rs, "slowestItemMs") ?? "-",
        max(rs, "slowestRequestMs") ?? "-",
      ];
    };
    for (const runName of ["in-process", "http"]) {
      const rs = mine.filter((r) => r.run === runName);
      table.push(
        rs.length > 0 ? line(runName, rs) : [protocol, runName, "no figures (suite did not finish)"],
      );
    }
    table.push(line("total", mine));
  }
  const widths = head.map((_, i) => Math.max(...table.map((r) => String(r[i] ?? "").length)));
  for (const r of table)
    out.push(
      r
        .map((c, i) => String(c ?? "").padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    );
  const readable = max(
    rows.filter((r) => r.run === "http"),
    "hostileReadableMs",
  );
  out.push(
    "slowest item: the processor's per-item time, measured in process (item-timing.ts); over HTTP the",
    `~64 KB regex-hostile reports were all readable ${readable === null ? "(not measured)" : `${readable} ms`} after they were sent.`,
  );
  return out.join("\n");
}

const figures = [];
let failed = false;
for (const config of ["vitest.reliability.config.ts", "vitest.reliability-e2e.config.ts"]) {
  if ((await run(config, figures)) !== 0) failed = true;
}
console.log(summary(figures));
process.exit(failed ? 1 : 0);
