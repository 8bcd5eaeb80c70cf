#!/usr/bin/env node
// `npm run bench`: every Sluice benchmark in one run, side by side, printing ONE JSON object.
//   --quick        shorter runs (about a minute and a half)
//   --md           also (re)write BENCHMARKS.md
//   --only=a,b     sections: edge, workerd, processor, e2e (cost needs edge + processor)
//   --processor    `npm run bench:processor`: only the processor, one JSON line
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { bundleForNode, ROOT, scratch } from "./lib/build.mjs";
import { costModel } from "./lib/cost.mjs";
import { benchE2E } from "./lib/e2e.mjs";
import { benchEdgeInProcess } from "./lib/edge-inproc.mjs";
import { renderMarkdown } from "./lib/markdown.mjs";
import { benchProcessor } from "./lib/processor.mjs";
import { benchSearch } from "./lib/search.mjs";
import { benchEdgeWorkerd } from "./lib/workerd-edge.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const md = args.includes("--md");
const processorOnly = args.includes("--processor");
const only = (
  args.find((a) => a.startsWith("--only="))?.slice(7) ?? "edge,workerd,processor,e2e,search"
).split(",");
const want = (s) => (processorOnly ? s === "processor" : only.includes(s));
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

function machine() {
  const cpuModel =
    /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ??
    cpus()[0]?.model ??
    "?";
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {}
  return { nproc, cpuModel, node: process.version, platform: `${process.platform} ${process.arch}` };
}

async function section(name, fn) {
  const t0 = performance.now();
  log(`${name}…`);
  try {
    const r = await fn();
    log(`${name} done in ${Math.round((performance.now() - t0) / 1000)} s`);
    return r;
  } catch (err) {
    log(`${name} FAILED: ${err.stack ?? err}`);
    return { error: String(err.message ?? err) };
  }
}

const started = Date.now();
const libPath = await bundleForNode("bench/node-entry.ts", "node-lib");
const lib = await import(libPath);
const result = {
  command: `npm run ${processorOnly ? "bench:processor" : "bench"}${args.length ? ` -- ${args.join(" ")}` : ""}`,
  date: new Date().toISOString(),
  machine: machine(),
  quick,
};

let inproc = null;
let workerd = null;
if (want("edge") || (want("processor") && !processorOnly)) {
  inproc = await section("edge in-process", () => benchEdgeInProcess(lib, { seconds: quick ? 3 : 8, quick }));
}
if (want("workerd")) {
  workerd = await section("edge in workerd under wrk", () =>
    benchEdgeWorkerd({ seconds: quick ? 4 : 10, connections: 32, rounds: 2 }),
  );
}
if (inproc || workerd) {
  result.edge = {
    reportsPerSecondPerCore: inproc?.reportsPerSecondPerCore ?? null,
    costVsJsonParse: inproc?.costVsJsonParse ?? null,
    sentryEnvelopesPerSecondPerCore: inproc?.sentry?.envelopesPerSecondPerCore ?? null,
    sentryCostVsJsonParse: inproc?.sentry?.costVsJsonParse ?? null,
    workerdRps: workerd?.workerdRps ?? null,
    workerdVsEmptyWorker: workerd?.workerdVsEmptyWorker ?? null,
    inProcess: inproc,
    workerd,
  };
}
if (want("processor")) {
  result.processor = await section("processor", () =>
    benchProcessor(
      lib,
      libPath,
      quick ? { errors: 1000, rumEvents: 500 } : { errors: 5000, rumEvents: 2500 },
    ),
  );
  // Side by side: the same workload from one client (one report per message, no group commit).
  if (result.processor && !result.processor.error) {
    const single = await section("processor, one client", () =>
      benchProcessor(lib, libPath, {
        ...(quick ? { errors: 500, rumEvents: 250 } : { errors: 2000, rumEvents: 1000 }),
        heap: false,
        concurrency: 1,
      }),
    );
    if (single && !single.error) {
      result.processor.singleReportMessages = {
        eventsPerSecond: single.eventsPerSecond,
        d1RowsWrittenPerEvent: single.d1RowsWrittenPerEvent,
        r2WritesPerEvent: single.r2WritesPerEvent,
        eventsPerMessage: single.eventsPerMessage,
      };
    }
  }
}
if (want("e2e")) {
  result.e2e = await section("end to end (npm start)", () =>
    benchE2E(
      quick ? { events: 3000, samples: 20, timeoutS: 120 } : { events: 15000, samples: 50, timeoutS: 120 },
    ),
  );
}
if (want("search")) {
  result.search = await section("search indexing (Elasticsearch)", () => benchSearch(quick));
}
if (inproc && !inproc.error && result.processor && !result.processor.error) {
  result.cost = costModel(inproc, result.processor);
}
result.budgets = budgets(result);
result.seconds = Math.round((Date.now() - started) / 1000);

try {
  rmSync(scratch(""), { recursive: true, force: true });
} catch {}

if (processorOnly) {
  const p = result.processor;
  process.stdout.write(
    `${JSON.stringify(
      p.error
        ? p
        : {
            eventsPerSecond: p.eventsPerSecond,
            r2WritesPerEvent: p.r2WritesPerEvent,
            d1RowsWrittenPerEvent: p.d1RowsWrittenPerEvent,
            peakHeapMB: p.peakHeapMB,
            batchP50Ms: p.batchP50Ms,
            batchP99Ms: p.batchP99Ms,
            events: p.events,
            mix: p.mix,
            d1RowsReadPerEvent: p.d1RowsReadPerEvent,
          },
    )}\n`,
  );
} else {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
if (md) {
  writeFileSync(join(ROOT, "BENCHMARKS.md"), renderMarkdown(result));
  log("wrote BENCHMARKS.md");
}

function budgets(r) {
  const b = (name, value, op, limit, unit) => ({
    name,
    value,
    budget: `${op} ${limit}${unit ? ` ${unit}` : ""}`,
    pass: value == null ? null : op === "≤" ? value <= limit : value >= limit,
  });
  return [
    b("edge.costVsJsonParse", r.edge?.costVsJsonParse, "≤", 2, "× JSON.parse"),
    b("edge.reportsPerSecondPerCore", r.edge?.reportsPerSecondPerCore, "≥", 20000, "reports/s"),
    b("processor.eventsPerSecond", r.processor?.eventsPerSecond, "≥", 5000, "events/s"),
    b("processor.r2WritesPerEvent", r.processor?.r2WritesPerEvent, "≤", 0.02, ""),
    b("processor.d1RowsWrittenPerEvent", r.processor?.d1RowsWrittenPerEvent, "≤", 1.2, ""),
    b("processor.peakHeapMB", r.processor?.peakHeapMB, "≤", 32, "MB"),
    b("e2e.eventsPerSecond", r.e2e?.eventsPerSecond, "≥", 1000, "events/s"),
    b("cost.usdPerMillionErrors", r.cost?.usdPerMillionErrors, "≤", 1, "USD"),
  ];
}
