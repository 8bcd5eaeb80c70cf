// Section 6: indexing throughput of the real Elasticsearch backend per bulk size, against the
// Elasticsearch that bench/lib/es.mjs found or started.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./build.mjs";

const run = promisify(execFile);

export async function benchSearch(quick, url) {
  const docs = quick ? 4000 : 20000;
  const { stdout } = await run(process.execPath, [join(ROOT, "shared", "search", "bench-es.mjs")], {
    env: { ...process.env, ELASTICSEARCH_URL: url, DOCS: String(docs) },
    timeout: 300_000,
  });
  const rows = [];
  for (const line of stdout.split("\n")) {
    const m = /^\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)/.exec(line);
    if (m) rows.push({ bulkSize: Number(m[1]), docsPerSecond: Number(m[2]), msPerRequest: Number(m[3]) });
  }
  return { url, docs, rows };
}
