// esbuild helpers: Node 20 cannot run TypeScript, so every benchmark bundles the REAL product
// modules (workers/**, shared/**) on each run. Sentry routes, admission policy and processor
// preparers that land later are therefore picked up without touching the bench.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BENCH = join(ROOT, "bench");

let outRoot;
/** A scratch directory for bundles and state, outside the repository (biome and git never see it). */
export function scratch(name) {
  outRoot ??= mkdtempSync(join(tmpdir(), "sluice-bench-"));
  return join(outRoot, name);
}

/** Bundles a TS entry for Node (ESM). Returns the output path. */
export async function bundleForNode(entry, name) {
  const outfile = scratch(`${name}.mjs`);
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
    // The edge's QuotaCounter extends cloudflare:workers' DurableObject: a shim runs it in Node.
    alias: { "cloudflare:workers": join(BENCH, "lib", "cf-workers-shim.mjs") },
    // Bundled CJS deps may call require(); give ESM output a require.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}

/** Bundles a TS entry for workerd (what wrangler does: ESM, workerd conditions, node:* external). */
export async function bundleForWorkerd(entry, name) {
  const outfile = scratch(`${name}.worker.mjs`);
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["node:*", "cloudflare:*"],
    minify: false,
    logLevel: "error",
  });
  return outfile;
}
