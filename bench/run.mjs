#!/usr/bin/env node
// `npm run bench`: every Sluice benchmark in one run, side by side, printing ONE JSON object and
// saving it to .cache/bench/last.json (what `npm run capacity` reads).
//   --quick        shorter runs
//   --md           also (re)write BENCHMARKS.md and BENCHMARKS.json (the figures it is made of)
//   --only=a,b     sections: edge, workerd, processor, curve, shards, e2e, search, console, alerts,
//                  sourcemaps
//                  (cost needs edge + processor + curve)
//   --processor    `npm run bench:processor`: only the processor, one JSON line
// A section that cannot run (no Elasticsearch to be had, say) is reported as skipped with the
// reason, never as a figure.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { benchAlerts } from "./alerts.mjs";
import { budgets } from "./lib/budgets.mjs";
import { bundleForNode, ROOT, scratch } from "./lib/build.mjs";
import { benchConsole } from "./lib/console.mjs";
import { costModel } from "./lib/cost.mjs";
import { benchE2E } from "./lib/e2e.mjs";
import { benchEdgeInProcess } from "./lib/edge-inproc.mjs";
import { benchEdgeIsolate } from "./lib/edge-isolate.mjs";
import { ensureElasticsearch } from "./lib/es.mjs";
import { renderMarkdown } from "./lib/markdown.mjs";
import { benchPipelineShards } from "./lib/pipeline-shards.mjs";
import { benchProcessor } from "./lib/processor.mjs";
import { benchSearch } from "./lib/search.mjs";
import { benchShards } from "./lib/shards.mjs";
import { benchEdgeWorkerd } from "./lib/workerd-edge.mjs";
import { benchSourcemaps } from "./sourcemaps.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const md = args.includes("--md");
const processorOnly = args.includes("--processor");
const only = (
  args.find((a) => a.startsWith("--only="))?.slice(7) ??
  "edge,workerd,processor,curve,shards,e2e,search,console,alerts,sourcemaps"
).split(",");
const want = (s) => (processorOnly ? s === "processor" : only.includes(s));
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

function git(...a) {
  try {
    return execFileSync("git", a, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

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
const skipped = (reason) => ({ skipped: reason });
const ok = (x) => x && !x.error && !x.skipped;

const started = Date.now();
const libPath = await bundleForNode("bench/node-entry.ts", "node-lib");
const lib = await import(libPath);
const dirty = git("status", "--porcelain", "--untracked-files=no");
const result = {
  command: `npm run ${processorOnly ? "bench:processor" : "bench"}${args.length ? ` -- ${args.join(" ")}` : ""}`,
  commit: git("rev-parse", "HEAD"),
  commitDirty: dirty === null ? null : dirty.length > 0,
  date: new Date().toISOString(),
  machine: machine(),
  quick,
  retentionDays: lib.DEFAULT_SETTINGS.retentionDays,
  ledgerDays: lib.QUEUE_RETENTION_DAYS,
  foldMaxPending: lib.FOLD_MAX_PENDING,
  foldAfterMs: lib.FOLD_DEFAULT_MS,
};

const needsEs = want("processor") || want("curve") || want("search") || want("console");
const es = needsEs ? await ensureElasticsearch(log) : { url: null, stop: async () => {} };
if (needsEs && !es.url) log(`Elasticsearch: ${es.reason}`);
result.elasticsearch = { url: es.url, startedByBench: !!es.started, reason: es.reason ?? null };

try {
  let inproc = null;
  let workerd = null;
  let isolate = null;
  if (want("edge") || ((want("processor") || want("curve")) && !processorOnly)) {
    inproc = await section("edge in-process", () =>
      benchEdgeInProcess(lib, { seconds: quick ? 3 : 8, quick }),
    );
  }
  if (want("workerd")) {
    workerd = await section("edge in workerd under autocannon", () =>
      benchEdgeWorkerd({ seconds: quick ? 4 : 10, connections: 32, rounds: 2 }),
    );
    isolate = await section("edge in-process inside workerd", () => benchEdgeIsolate({ quick }));
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
      isolate,
    };
  }
  // The main run: the Elasticsearch configuration (the DESIGN's production one) when one is there.
  const mainSearch = es.url ? "es" : "fts";
  if (want("processor")) {
    result.processor = await section(`processor (${mainSearch})`, () =>
      benchProcessor(lib, libPath, {
        // Long enough for a full fold cycle of the group deltas (16 batches of ~6.7 events/message).
        ...(quick
          ? { errors: 1000, rumEvents: 500, sessions: 300 }
          : { errors: 12000, rumEvents: 6000, sessions: 3000 }),
        search: mainSearch,
        esUrl: es.url,
        // Remote bindings answer in milliseconds: how many round trips a batch waits in sequence.
        latencyMs: 50,
      }),
    );
    if (!es.url && ok(result.processor))
      result.processor.notes.push(
        `run without Elasticsearch (${es.reason}): the D1 rows budget is for the es configuration`,
      );
  }
  // Cost curve: error events alone, 1–16 clients in flight (group commit packs what arrives
  // together), both search configurations.
  if (want("curve")) {
    result.curve = [];
    for (const search of ["es", "fts"]) {
      if (search === "es" && !es.url) {
        result.curveSkipped = { es: `no Elasticsearch: ${es.reason}` };
        continue;
      }
      for (const k of [1, 2, 4, 8, 16]) {
        // Long enough for several folds of the group deltas at every k (a fold every 16 batches).
        const errors = quick ? 1600 : 6400;
        // Same-size reports (5 KB Raygun, Sentry fixtures) so that k in flight can pack k per
        // message; the main run above is the mixed-size point.
        const r = await section(`curve ${search}, ${k} in flight`, () =>
          benchProcessor(lib, libPath, {
            errors,
            fixedBytes: 5120,
            rumEvents: 0,
            heap: false,
            parse: false,
            concurrency: k,
            search,
            esUrl: es.url,
          }),
        );
        if (ok(r)) result.curve.push(r);
        else result.curveErrors = [...(result.curveErrors ?? []), `${search}/${k}: ${r.error}`];
      }
    }
  }
  if (want("shards")) {
    result.shards = await section("queue shards", () =>
      benchShards(lib, { shards: 4, reports: quick ? 2000 : 8000 }),
    );
    result.pipelineShards = await section("pipeline over 4 queue shards and 4 metadata shards", () =>
      benchPipelineShards(lib, { queueShards: 4, metaShards: 4, reports: quick ? 2000 : 6000 }),
    );
  }
  if (want("e2e")) {
    result.e2e = await section("end to end (npm start)", () =>
      benchE2E(
        quick ? { events: 3000, samples: 20, timeoutS: 120 } : { events: 15000, samples: 50, timeoutS: 120 },
      ),
    );
  }
  if (want("console")) {
    result.console = await section("console latency by project size", () =>
      benchConsole(lib, {
        small: 2000,
        large: quick ? 20_000 : 200_000,
        requests: quick ? 40 : 100,
        esUrl: es.url,
      }),
    );
  }
  if (want("alerts")) {
    result.alerts = await section("alerts (npm start)", () => benchAlerts({ samples: quick ? 10 : 30 }));
  }
  if (want("sourcemaps")) {
    result.sourcemaps = await section("source maps (symbolicated vs not)", () => benchSourcemaps({ quick }));
  }
  if (want("search")) {
    result.search = es.url
      ? await section("search indexing (Elasticsearch)", () => benchSearch(quick, es.url))
      : skipped(`no Elasticsearch: ${es.reason}`);
  }
  if (ok(inproc) && ok(result.processor) && result.curve?.length) {
    result.cost = costModel(inproc, result.processor, result.curve, {
      retentionDays: result.retentionDays,
      ledgerDays: result.ledgerDays,
    });
  }
} finally {
  await es.stop();
}
result.budgets = budgets(result);
result.seconds = Math.round((Date.now() - started) / 1000);

try {
  rmSync(scratch(""), { recursive: true, force: true });
} catch {}

const json = `${JSON.stringify(result, null, 2)}\n`;
mkdirSync(join(ROOT, ".cache", "bench"), { recursive: true });
writeFileSync(join(ROOT, ".cache", "bench", "last.json"), json);
if (processorOnly) {
  const p = result.processor;
  process.stdout.write(
    `${JSON.stringify(
      !ok(p)
        ? p
        : {
            search: p.search,
            eventsPerSecond: p.eventsPerSecond,
            costVsJsonParse: p.costVsJsonParse,
            r2WritesPerEvent: p.r2WritesPerEvent,
            d1RowsWrittenPerEvent: p.d1RowsWrittenPerEvent,
            peakMB: p.peakHeapMB,
            batchP50Ms: p.batchP50Ms,
            batchP99Ms: p.batchP99Ms,
            events: p.events,
            mix: p.mix,
            d1RowsReadPerEvent: p.d1RowsReadPerEvent,
          },
    )}\n`,
  );
} else {
  process.stdout.write(json);
}
if (md) {
  writeFileSync(join(ROOT, "BENCHMARKS.md"), renderMarkdown(result));
  writeFileSync(join(ROOT, "BENCHMARKS.json"), json);
  log("wrote BENCHMARKS.md and BENCHMARKS.json");
}
