// Bench section `sourcemaps` (`npm run bench -- --only=sourcemaps`): the processor's per-item work
// (workers/processor/prepare.ts: parse, scrub, normalize, symbolicate, group) on the same Sentry
// browser error events, once for a project with an uploaded source map (every JavaScript frame
// mapped, maps cached) and once for a project without one, in one run; the ratio is the budget
// (≥ 0.5). The app is generated: ~560 modules bundled and minified by esbuild to a > 1 MB bundle
// with its map. The cold cost (first fetch and parse of that map) is reported beside. Storage is
// an in-memory stand-in for D1 and R2 answering the artifact look-ups, so the figures are CPU.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedPositionFor, LEAST_UPPER_BOUND, TraceMap } from "@jridgewell/trace-mapping";
import { build } from "esbuild";
import { ROOT, scratch } from "./lib/build.mjs";
import { median } from "./lib/stats.mjs";

const MODULES = 560;

/** A generated app: module i has a few functions, each calling into module i+1. */
export function writeApp(dir) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < MODULES; i++) {
    const next = i + 1 < MODULES ? `import { step${i + 1} } from "./m${i + 1}.js";` : "";
    const call =
      i + 1 < MODULES
        ? `return step${i + 1}(input.slice(1), depth + 1);`
        : `throw new Error("checkout failed at depth " + depth);`;
    const helpers = Array.from(
      { length: 12 },
      (_, k) => `export function helper${i}_${k}(items, factor) {
  const totals = items.map((item) => item.price * item.quantity * factor + ${k});
  const label = "module ${i} helper ${k}: " + totals.join(", ");
  return { label, sum: totals.reduce((a, b) => a + b, 0), count: totals.length };
}`,
    ).join("\n");
    writeFileSync(
      join(dir, `m${i}.js`),
      `${next}
${helpers}
const helpers${i} = [${Array.from({ length: 12 }, (_, k) => `helper${i}_${k}`).join(", ")}];
export function step${i}(input, depth) {
  const summary = helpers${i}[depth % 12](input, depth);
  if (summary.count < 0) return summary;
  ${call}
}
`,
    );
  }
  writeFileSync(
    join(dir, "main.js"),
    `import { step0 } from "./m0.js";\nglobalThis.run = () => step0([], 0);\n`,
  );
}

/** An in-memory D1 answering the artifact store's look-ups for project 1 only. */
function artifactDb(rows) {
  const stmt = (sql, args = []) => ({
    bind: (...a) => stmt(sql, a),
    async first() {
      if (/FROM artifact_bundles/.test(sql)) return args[0] === 1 ? { x: 1 } : null;
      if (/debug_id = \?/.test(sql)) return rows.get(`${args[0]}|${args[1]}`) ?? null;
      return null;
    },
    async all() {
      return { results: [] };
    },
  });
  return { prepare: (sql) => stmt(sql) };
}

function blobs(map, stats) {
  return {
    async get(key) {
      stats.gets++;
      const text = map.get(key);
      return text === undefined ? null : { text: async () => text };
    },
  };
}

export async function benchSourcemaps({ quick = false } = {}) {
  const dir = scratch("sourcemaps-app");
  writeApp(dir);
  await build({
    entryPoints: [join(dir, "main.js")],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: "iife",
    outfile: join(dir, "dist", "app.js"),
    logLevel: "error",
  });
  const code = readFileSync(join(dir, "dist", "app.js"), "utf8");
  const mapText = readFileSync(join(dir, "dist", "app.js.map"), "utf8");
  const tm = new TraceMap(mapText);

  const libPath = scratch("sourcemaps-lib.mjs");
  await build({
    stdin: {
      contents: `export { prepareItem } from "./workers/processor/prepare";
export { mapCache } from "./shared/sourcemaps/resolver";`,
      resolveDir: ROOT,
      loader: "ts",
    },
    outfile: libPath,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const { prepareItem, mapCache } = await import(libPath);

  // A stack through 20 modules, at the real minified positions of each call (`step<i+1>(` and
  // the helper call before it).
  const url = "https://shop.example/static/app.js";
  const sourceOf = new Map(tm.sources.map((s, i) => [s.slice(s.lastIndexOf("/") + 1), i]));
  const frameAt = (i, needle) => {
    const idx = sourceOf.get(`m${i}.js`);
    const lines = tm.sourcesContent[idx].split("\n");
    const at = lines.findIndex((l) => l.includes(needle));
    const g = generatedPositionFor(tm, {
      source: tm.sources[idx],
      line: at + 1,
      column: lines[at].indexOf(needle),
      bias: LEAST_UPPER_BOUND,
    });
    return {
      filename: url,
      abs_path: url,
      function: `t${i}`,
      lineno: g.line ?? 1,
      colno: (g.column ?? 0) + 1,
      in_app: true,
    };
  };
  const frames = Array.from({ length: 20 }, (_, i) => frameAt(i, `step${i + 1}(`));
  // Other events: 20 random modules each, so most frame positions are new to the map's memo.
  const randomFrames = () =>
    Array.from({ length: 20 }, () => {
      const i = Math.floor(Math.random() * (MODULES - 1));
      return frameAt(i, Math.random() < 0.5 ? `step${i + 1}(` : `helpers${i}[`);
    });
  const debugId = randomUUID();
  const rows = new Map();
  const store = new Map();
  const stats = { gets: 0 };
  const addMap = (id) => {
    const key = `artifacts/1/${id}/1`;
    store.set(key, mapText);
    rows.set(`1|${id.replaceAll("-", "")}`, {
      bundleId: id,
      url: "~/static/app.js.map",
      kind: "source_map",
      blobKey: key,
      release: "",
      dist: "",
    });
  };
  addMap(debugId);
  const env = { DB: artifactDb(rows), BLOBS: blobs(store, stats) };
  const payloadFor = (id, stack = frames) =>
    JSON.stringify({
      event_id: "c".repeat(32),
      platform: "javascript",
      release: "shop@1",
      exception: {
        values: [{ type: "Error", value: "checkout failed at depth 19", stacktrace: { frames: stack } }],
      },
      debug_meta: { images: [{ type: "sourcemap", code_file: url, debug_id: id }] },
      request: { url: "https://shop.example/cart", headers: { "User-Agent": "Mozilla/5.0 Chrome/156.0" } },
      tags: { page: "cart" },
    });
  const item = (projectId, id = debugId, stack = frames) => {
    const payload = payloadFor(id, stack);
    return {
      protocol: "sentry",
      category: "error",
      itemType: "event",
      projectId,
      eventId: randomUUID().replaceAll("-", ""),
      receivedAt: Date.now(),
      client: { ip: null, userAgent: null, country: null, colo: null },
      payload,
      size: payload.length,
    };
  };

  // Cold: each run names a map not yet parsed (its own debug id and R2 object).
  const cold = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    const id = randomUUID();
    addMap(id);
    const t0 = performance.now();
    const p = await prepareItem(item("1", id), env, 60_000);
    cold.push(performance.now() - t0);
    if (p.event.exceptions[0].frames.at(-1).minified === undefined)
      throw new Error(
        `cold event was not symbolicated: ${JSON.stringify(p.event.exceptions[0].frames.at(-1))}`,
      );
  }
  const first = await prepareItem(item("1"), env, 60_000); // warms the cache for the measured map
  const top = first.event.exceptions[0].frames.at(-1);
  if (!top.minified) throw new Error(`the bench event was not symbolicated: ${top.unmapped}`);

  const n = quick ? 1500 : 5000;
  const rate = async (projectId, distinct = false) => {
    const items = Array.from({ length: n }, () =>
      item(projectId, debugId, distinct ? randomFrames() : frames),
    );
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += 100)
      await Promise.all(items.slice(i, i + 100).map((x) => prepareItem(x, env, 60_000)));
    return n / ((performance.now() - t0) / 1000);
  };
  await rate("2"); // JIT warm-up of the common path
  const loadsBefore = mapCache.loads;
  const getsBefore = stats.gets;
  // Interleaved rounds, so drift on a shared machine hits both sides alike.
  const plain = [];
  const mapped = [];
  for (let r = 0; r < 3; r++) {
    plain.push(await rate("2"));
    mapped.push(await rate("1"));
  }
  // Events whose frames sit at positions not seen before (the per-map frame memo mostly misses).
  const distinctPlain = [];
  const distinctMapped = [];
  for (let r = 0; r < 2; r++) {
    distinctPlain.push(await rate("2", true));
    distinctMapped.push(await rate("1", true));
  }
  const sym = median(mapped);
  const unsym = median(plain);
  const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    bundleBytes: code.length,
    mapBytes: mapText.length,
    framesPerEvent: frames.length,
    eventsPerRound: n,
    symbolicatedPerSecond: round(sym),
    unsymbolicatedPerSecond: round(unsym),
    ratio: round(sym / unsym, 3),
    budget: 0.5,
    meetsBudget: sym / unsym >= 0.5,
    distinctFrames: {
      symbolicatedPerSecond: round(Math.min(...distinctMapped)),
      unsymbolicatedPerSecond: round(Math.max(...distinctPlain)),
      ratio: round(Math.min(...distinctMapped) / Math.max(...distinctPlain), 3),
    },
    coldMsMedian: round(median(cold), 1),
    coldMs: cold.map((x) => round(x, 1)),
    mapLoadsWhileWarm: mapCache.loads - loadsBefore,
    r2GetsWhileWarm: stats.gets - getsBefore,
    note: "ratio: the same bug repeated (frames memoized per map); distinctFrames: 20 random call sites per event, worst round against best; prepare step only (parse, scrub, normalize, symbolicate, group) in Node: the batch's R2 and D1 writes, equal for both, are left out, so the ratio is the conservative one",
  };
}
