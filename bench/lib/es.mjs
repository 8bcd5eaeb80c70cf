// Elasticsearch for the bench sections that need one: the URL given (SLUICE_BENCH_ES_URL or
// ELASTICSEARCH_URL), else a local node on 127.0.0.1:9200, else one started by
// scripts/elasticsearch.sh (fetched from Maven Central on first use) and stopped again at the end.
// When none can be had, the caller reports its sections as skipped with the reason.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./build.mjs";

const run = promisify(execFile);
const SCRIPT = join(ROOT, "scripts", "elasticsearch.sh");

async function healthy(url) {
  try {
    const res = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** @returns {{url: string|null, started: boolean, reason?: string, stop: () => Promise<void>}} */
export async function ensureElasticsearch(log) {
  const given = process.env.SLUICE_BENCH_ES_URL || process.env.ELASTICSEARCH_URL;
  const url = given || "http://127.0.0.1:9200";
  const none = async () => {};
  if (await healthy(url)) return { url, started: false, stop: none };
  if (given) return { url: null, started: false, reason: `no Elasticsearch answers at ${given}`, stop: none };
  log?.("no Elasticsearch at 127.0.0.1:9200: starting one with scripts/elasticsearch.sh");
  try {
    await run("bash", [SCRIPT, "start"], { cwd: ROOT, timeout: 600_000, maxBuffer: 1 << 22 });
  } catch (err) {
    const why = String(err.stderr || err.message)
      .trim()
      .split("\n")
      .slice(-2)
      .join(" ");
    return { url: null, started: false, reason: `scripts/elasticsearch.sh start failed: ${why}`, stop: none };
  }
  if (!(await healthy(url)))
    return {
      url: null,
      started: false,
      reason: "scripts/elasticsearch.sh started no healthy node",
      stop: none,
    };
  return {
    url,
    started: true,
    stop: async () => {
      await run("bash", [SCRIPT, "stop"], { cwd: ROOT, timeout: 120_000 }).catch(() => {});
    },
  };
}

/** Installs the product's index template for a bench-only prefix (removed again by dropEsPrefix). */
export async function installEsTemplate(url, prefix) {
  await run(process.execPath, [join(ROOT, "scripts", "search-setup.mjs")], {
    env: { ...process.env, ELASTICSEARCH_URL: url, ELASTICSEARCH_INDEX_PREFIX: prefix },
    timeout: 60_000,
  });
}

/** Deletes only what this run created: the prefix's indices and template. */
export async function dropEsPrefix(url, prefix) {
  try {
    const res = await fetch(`${url}/_cat/indices/${prefix}-*?format=json&h=index`);
    for (const { index } of res.ok ? await res.json() : [])
      if (index.startsWith(`${prefix}-`)) await fetch(`${url}/${index}`, { method: "DELETE" });
    await fetch(`${url}/_index_template/${prefix}`, { method: "DELETE" });
  } catch (err) {
    process.stderr.write(`[bench] could not remove Elasticsearch ${prefix}-* and its template: ${err}\n`);
  }
}
