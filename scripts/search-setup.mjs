#!/usr/bin/env node
/**
 * Installs the Elasticsearch index template for Sluice's search indices (`npm run search:setup`),
 * then checks every existing `<prefix>-*` index with the workers' own check (shared/search/
 * es-schema.ts, bundled with esbuild since Node 20 cannot run TypeScript): missing fields are added,
 * an index with dynamic mappings makes it exit 1 naming the index. `npm start` runs it first when
 * ELASTICSEARCH_URL is set. The mapping lives in shared/search/es-template.json.
 *
 * Environment:
 *   ELASTICSEARCH_URL            required, e.g. http://127.0.0.1:9200
 *   ELASTICSEARCH_API_KEY        or ELASTICSEARCH_USERNAME + ELASTICSEARCH_PASSWORD (optional)
 *   ELASTICSEARCH_INDEX_PREFIX   default "sluice-events": indices are <prefix>-YYYY.MM, template <prefix>
 *   ELASTICSEARCH_REPLICAS       default 0 (single node); use 1+ on a real cluster
 *   SLUICE_SEARCH_RETENTION_DAYS optional: with ILM available, an ILM policy deletes monthly indices
 *                                older than this. Without ILM (e.g. the integ-test distribution has no
 *                                x-pack ILM) retention is ElasticsearchBackend.dropIndicesOlderThan +
 *                                deleteOlderThan, run by a scheduled job.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@elastic/elasticsearch";
import { build } from "esbuild";

const env = process.env;
const url = env.ELASTICSEARCH_URL;
if (!url) {
  console.error("search-setup: ELASTICSEARCH_URL is not set");
  process.exit(1);
}
const prefix = env.ELASTICSEARCH_INDEX_PREFIX || "sluice-events";
const replicas = Number(env.ELASTICSEARCH_REPLICAS ?? 0);
const retentionDays = Number(env.SLUICE_SEARCH_RETENTION_DAYS ?? 0);
const auth = env.ELASTICSEARCH_API_KEY
  ? { apiKey: env.ELASTICSEARCH_API_KEY }
  : env.ELASTICSEARCH_USERNAME
    ? { username: env.ELASTICSEARCH_USERNAME, password: env.ELASTICSEARCH_PASSWORD ?? "" }
    : undefined;
const client = new Client({ node: url, ...(auth ? { auth } : {}) });

const file = new URL("../shared/search/es-template.json", import.meta.url);
const { _comment, ...template } = JSON.parse(await readFile(file, "utf8"));
const settings = { index: { ...template.template.settings.index, number_of_replicas: replicas } };

try {
  // ILM is optional: probe it, and only attach a policy when it exists and retention is asked for.
  let lifecycle = null;
  const ilm = await client.ilm.getStatus().then(
    () => true,
    () => false,
  );
  if (ilm && retentionDays > 0) {
    lifecycle = `${prefix}-retention`;
    await client.ilm.putLifecycle({
      name: lifecycle,
      policy: { phases: { delete: { min_age: `${retentionDays}d`, actions: { delete: {} } } } },
    });
    settings.index["lifecycle.name"] = lifecycle;
  }
  await client.indices.putIndexTemplate({
    name: prefix,
    version: template.version,
    index_patterns: [`${prefix}-*`],
    priority: 200, // above ES's built-in templates
    template: { ...template.template, settings },
    _meta: { managed_by: "sluice", description: _comment },
  });
  const got = await client.indices.getIndexTemplate({ name: prefix });
  const fields = Object.keys(got.index_templates[0]?.index_template.template?.mappings?.properties ?? {});
  const { indicesUpdated } = await checkIndices();
  if (indicesUpdated.length > 0)
    console.log(`search-setup: added new fields to ${indicesUpdated.join(", ")}`);
  console.log(
    `search-setup: index template "${prefix}" for ${prefix}-* installed at ${url} ` +
      `(${fields.length} fields, replicas ${replicas}, ` +
      `${lifecycle ? `ILM policy ${lifecycle}` : ilm ? "no ILM policy" : "ILM unavailable: retention by dropIndicesOlderThan"})`,
  );
} catch (err) {
  console.error(
    `search-setup: failed: ${err?.meta?.body ? JSON.stringify(err.meta.body) : (err?.message ?? err)}`,
  );
  process.exit(1);
} finally {
  await client.close();
}

/** Runs shared/search/es-schema.ts (what the indexer runs) against the cluster. */
async function checkIndices() {
  const dir = await mkdtemp(join(tmpdir(), "sluice-search-setup-"));
  try {
    const outfile = join(dir, "es-schema.mjs");
    await build({
      entryPoints: [new URL("../shared/search/es-schema.ts", import.meta.url).pathname],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "error",
    });
    const { ensureSearchSchema } = await import(pathToFileURL(outfile).href);
    const headers = { "content-type": "application/json" };
    if (auth?.apiKey) headers.authorization = `ApiKey ${auth.apiKey}`;
    else if (auth)
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    const base = url.replace(/\/+$/, "");
    const request = async (method, path, body) => {
      try {
        const res = await fetch(`${base}${path}`, { method, headers, body });
        const text = await res.text();
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // keep the text for the error message
        }
        return { ok: res.ok, status: res.status, json, text };
      } catch (err) {
        return { ok: false, status: 0, json: null, text: String(err) };
      }
    };
    return await ensureSearchSchema(request, prefix);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
