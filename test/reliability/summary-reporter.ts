// A vitest reporter for both halves of `npm run test:reliability`: it collects the `RELIABILITY
// {...}` figures lines the suites print, keeps each half's figures in .cache/reliability-figures/,
// and ends each run with one summary per protocol (in process, over HTTP, total): inputs tried, 5xx,
// crashes, events of other tenants lost (must be 0), the slowest item and the slowest request.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UserConsoleLog } from "vitest";
import type { Reporter } from "vitest/node";

type Run = "in-process" | "http";
type Figures = Record<string, unknown> & { protocol?: string; run?: string };

const DIR = join(import.meta.dirname, "..", "..", ".cache", "reliability-figures");
const RUNS: Run[] = ["in-process", "http"];
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal colour codes
const ANSI = /\x1b\[[0-9;]*m/g;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const sum = (rows: Figures[], k: string) => rows.reduce((n, r) => n + (num(r[k]) ?? 0), 0);
function max(rows: Figures[], k: string): number | null {
  const values = rows.map((r) => num(r[k])).filter((v): v is number => v !== null);
  return values.length > 0 ? Math.max(...values) : null;
}

/** The summary table of some figures lines (those that name a protocol). */
export function summarize(figures: Figures[], notes: string[] = []): string {
  const rows = figures.filter((f) => f.protocol === "raygun" || f.protocol === "sentry");
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
  const table: (string | number)[][] = [head];
  const line = (protocol: string, label: string, rs: Figures[]) => [
    protocol,
    label,
    sum(rs, "inputs"),
    sum(rs, "fivexx"),
    sum(rs, "crashes"),
    sum(rs, "victimSent"),
    rs.some((r) => num(r.victimLost) !== null) ? sum(rs, "victimLost") : "not measured",
    max(rs, "slowestItemMs") ?? "-",
    max(rs, "slowestRequestMs") ?? "-",
  ];
  for (const protocol of ["raygun", "sentry"]) {
    const mine = rows.filter((r) => r.protocol === protocol);
    for (const run of RUNS) {
      const rs = mine.filter((r) => r.run === run);
      table.push(
        rs.length > 0 ? line(protocol, run, rs) : [protocol, run, "no figures (not run, or did not finish)"],
      );
    }
    table.push(line(protocol, "total", mine));
  }
  const widths = head.map((_, i) => Math.max(...table.map((r) => String(r[i] ?? "").length)));
  const readable = max(
    rows.filter((r) => r.run === "http"),
    "hostileReadableMs",
  );
  return [
    "",
    "Reliability summary: hostile input per protocol (in process, and over HTTP against wrangler dev)",
    ...table.map((r) =>
      r
        .map((c, i) => String(c ?? "").padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    ),
    "slowest item: the processor's per-item time (load, scrub, normalize, group), measured in process;",
    `over HTTP the ~64 KB regex-hostile reports were all readable ${readable === null ? "(not measured)" : `${readable} ms`} after they were sent.`,
    ...notes,
    "",
  ].join("\n");
}

/** One half's reporter: `new ReliabilitySummary("in-process")` or `("http")`. */
export default class ReliabilitySummary implements Reporter {
  private readonly figures: Figures[] = [];
  constructor(private readonly run: Run) {}

  onInit(): void {
    // The workerd half runs first: a new run starts from nothing.
    if (this.run === "in-process") rmSync(DIR, { recursive: true, force: true });
  }

  onUserConsoleLog(log: UserConsoleLog): void {
    for (const line of log.content.split("\n")) {
      const m = /RELIABILITY (\{.*\})\s*$/.exec(line.replace(ANSI, ""));
      if (!m) continue;
      try {
        this.figures.push(JSON.parse(m[1]!) as Figures);
      } catch {
        process.stderr.write(`reliability summary: unreadable figures line ${line.slice(0, 200)}\n`);
      }
    }
  }

  onTestRunEnd(): void {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, `${this.run}.json`), JSON.stringify(this.figures));
    const all: Figures[] = [];
    const notes: string[] = [];
    for (const run of RUNS) {
      const file = join(DIR, `${run}.json`);
      if (!readdirSync(DIR).includes(`${run}.json`)) continue;
      all.push(...(JSON.parse(readFileSync(file, "utf8")) as Figures[]));
      if (run !== this.run)
        notes.push(`(${run} figures from the run of ${statSync(file).mtime.toISOString()})`);
    }
    process.stdout.write(summarize(all, notes));
  }
}
