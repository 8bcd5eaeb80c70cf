#!/usr/bin/env node
// Indexing throughput of the real ElasticsearchBackend (the worker code, bundled with esbuild for
// Node) against a local node, per bulk request size. Sequential requests, one client, no refresh:
// what one indexer invocation achieves. Usage:
//   bash scripts/elasticsearch.sh start
//   node shared/search/bench-es.mjs [ELASTICSEARCH_URL=http://127.0.0.1:9200] [DOCS=20000]
import { mkdir } from "node:fs/promises";
import { build } from "esbuild";

const url = process.env.ELASTICSEARCH_URL || "http://127.0.0.1:9200";
const total = Number(process.env.DOCS || 20_000);
const root = new URL("../../", import.meta.url);
const out = new URL(".cache/bench/search-es.mjs", root);
await mkdir(new URL(".", out), { recursive: true });
await build({
  stdin: {
    contents: `export { ElasticsearchBackend } from "./shared/search/elasticsearch";
      export { indexTemplate } from "./shared/search/es-template";
      export { corpusDoc } from "./shared/search/conformance-corpus";`,
    resolveDir: root.pathname,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: out.pathname,
  logLevel: "error",
});
const { ElasticsearchBackend, indexTemplate, corpusDoc } = await import(out.href);

const run = Date.now().toString(36);
console.log(`elasticsearch indexing throughput at ${url} (${total} docs per size, sequential _bulk)`);
console.log("bulk size | docs/s | ms per request");
for (const size of [10, 100, 500, 1000]) {
  const prefix = `sluicebench-${run}-${size}`;
  const put = await fetch(`${url}/_index_template/${prefix}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(indexTemplate(prefix)),
  });
  if (!put.ok) throw new Error(`template: ${put.status} ${await put.text()}`);
  const backend = new ElasticsearchBackend({
    url,
    indexPrefix: prefix,
    bulk: { maxBytes: 5 << 20, maxDocs: size },
  });
  const docs = Array.from({ length: total }, (_, i) => ({
    ...corpusDoc((i % 20) + 1),
    eventId: `${run}${i.toString(16).padStart(8, "0")}`,
    occurredAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
  }));
  // Warm-up request (index creation, JIT), not timed.
  await backend.index(docs.slice(0, size).map((d) => ({ ...d, eventId: `w${d.eventId}` })));
  const start = performance.now();
  for (let i = 0; i < total; i += size) {
    const results = await backend.index(docs.slice(i, i + size));
    if (results.some((r) => r !== "ok"))
      throw new Error(`not ok: ${JSON.stringify(results.find((r) => r !== "ok"))}`);
  }
  const ms = performance.now() - start;
  console.log(
    `${String(size).padStart(9)} | ${Math.round((total / ms) * 1000)
      .toString()
      .padStart(6)} | ${(ms / (total / size)).toFixed(1)}`,
  );
  for (const index of await (await fetch(`${url}/_cat/indices/${prefix}-*?format=json&h=index`)).json()) {
    await fetch(`${url}/${index.index}`, { method: "DELETE" });
  }
  await fetch(`${url}/_index_template/${prefix}`, { method: "DELETE" });
}
