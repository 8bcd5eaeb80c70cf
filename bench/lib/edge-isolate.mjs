// Section 2's in-isolate figures: the REAL edge app called in-process inside workerd (the runtime it
// is deployed on, with its native Request and body delivery) by bench/edge-isolate-worker.mjs, with
// the same binding fakes as section 1, so the Node harness's Request overhead can be told apart from
// the edge's own cost. Per-round medians come back from the worker; this reports their medians.
import { dirname } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { bundleForWorkerd } from "./build.mjs";
import { INGEST_KEY } from "./fakes.mjs";
import { COMPAT } from "./miniflare.mjs";
import { raygunNodeReport } from "./payloads.mjs";
import { median } from "./stats.mjs";
import { CLOUDFLARE_HEADERS } from "./workerd-edge.mjs";

const r2 = (x) => Math.round(x * 100) / 100;

export async function benchEdgeIsolate({ quick = false } = {}) {
  const bundle = await bundleForWorkerd("bench/edge-isolate-worker.mjs", "edge-isolate");
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle,
    modulesRoot: dirname(bundle),
    ...COMPAT,
    cf: false,
    log: new Log(LogLevel.ERROR),
  });
  try {
    const text = JSON.stringify(raygunNodeReport({ bytes: 5120, g: 3, id: 1 }));
    // What an SDK's request carries (raygun4node sends Content-Length; the read takes the one-call path).
    const headers = {
      "content-length": String(Buffer.byteLength(text)),
      "content-type": "application/json",
      "x-apikey": INGEST_KEY,
      "cf-connecting-ip": "203.0.113.7",
      ...CLOUDFLARE_HEADERS,
    };
    const cfg = { text, headers, rounds: quick ? 2 : 4, block: 1000, blocks: quick ? 3 : 5, warmup: 3000 };
    const res = await mf.dispatchFetch("http://bench/run", { method: "POST", body: JSON.stringify(cfg) });
    const out = await res.text();
    if (res.status !== 200)
      throw new Error(`edge isolate bench answered ${res.status}: ${out.slice(0, 300)}`);
    const { rounds, otherSql } = JSON.parse(out);
    const m = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, median(v)]));
    return {
      method: `workerd (Miniflare), real edge app in-process with section 1's fakes; ${cfg.rounds} rounds × ${cfg.blocks} blocks of ${cfg.block} calls per figure, interleaved; median block (workerd's clock ticks in ms)`,
      reportBytes: Buffer.byteLength(text),
      usPerReport: m.edgeUs,
      jsonParseUs: m.jsonParseUs,
      costVsJsonParse: r2(m.edgeUs / m.jsonParseUs),
      reportsPerSecond: Math.round(1e6 / m.edgeUs),
      bodyReadUs: m.bodyReadUs,
      floorUs: m.floorUs,
      floorVsJsonParse: r2(m.floorUs / m.jsonParseUs),
      honoNoopUs: m.honoNoopUs,
      edgeMinusHonoNoopVsJsonParse: r2((m.edgeUs - m.honoNoopUs) / m.jsonParseUs),
      rounds,
      otherSql,
    };
  } finally {
    await mf.dispose();
  }
}
