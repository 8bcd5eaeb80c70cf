// A fresh Elasticsearch cluster (no template, under a unique prefix on the shared test node): the
// backend installs the template before its first write, so search works at once instead of failing
// on auto-created dynamic mappings; an index that already has dynamic mappings is refused with an
// error saying what to run (and nothing is written into it); an index from an older template gets
// the missing fields. Deletes only the indices and templates it created.
//
// Without ES this file FAILS, unless the SLUICE_ALLOW_NO_ES binding is "1" (then it skips).
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { corpusDoc } from "./conformance-corpus";
import { ElasticsearchBackend } from "./elasticsearch";
import { type EsRequest, ensureSearchSchema, SearchSchemaError, TEMPLATE_VERSION } from "./es-schema";
import { indexTemplate } from "./es-template";

const url = (env.SLUICE_TEST_ES_URL ?? "").replace(/\/+$/, "");
const allowNoEs = env.SLUICE_ALLOW_NO_ES === "1";
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const created: string[] = [];

async function es(method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const request: EsRequest = async (method, path, body) => {
  const res = await fetch(`${url}${path}`, { method, headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  return { ok: res.ok, status: res.status, json: JSON.parse(text), text };
};

/** A prefix no other test uses; remembered for cleanup. */
function freshPrefix(name: string): string {
  const prefix = `sluicefresh-${name}-${run}`;
  created.push(prefix);
  return prefix;
}

if (!url && allowNoEs) {
  describe.skip("elasticsearch schema (no SLUICE_TEST_ES_URL, SLUICE_ALLOW_NO_ES=1)", () => {});
} else if (!url) {
  it("needs a real Elasticsearch", () => {
    expect.fail("SLUICE_TEST_ES_URL binding is empty: set it to a running Elasticsearch");
  });
} else {
  afterAll(async () => {
    for (const prefix of created) {
      const indices = (await es("GET", `/_cat/indices/${prefix}-*?format=json&h=index`)).json as unknown as
        | Array<{ index: string }>
        | undefined;
      for (const { index } of Array.isArray(indices) ? indices : []) await es("DELETE", `/${index}`);
      await es("DELETE", `/_index_template/${prefix}`);
    }
  });

  describe("elasticsearch schema on a fresh cluster", () => {
    it("installs the template before the first write, so the first search already works", async () => {
      const prefix = freshPrefix("new");
      expect((await es("GET", `/_index_template/${prefix}`)).status).toBe(404);
      const backend = new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true });
      expect(await backend.index([corpusDoc(1), corpusDoc(2)])).toEqual(["ok", "ok"]);
      const template = await es("GET", `/_index_template/${prefix}`);
      expect(template.status).toBe(200);
      const installed = (template.json.index_templates as Array<{ index_template: { version: number } }>)[0]!;
      expect(installed.index_template.version).toBe(TEMPLATE_VERSION);
      const mapping = (await es("GET", `/${prefix}-*/_mapping`)).json;
      for (const index of Object.values(mapping) as Array<{ mappings: Record<string, unknown> }>) {
        expect(index.mappings.dynamic).toBe("strict");
        expect((index.mappings.properties as Record<string, { type: string }>).eventId!.type).toBe("keyword");
      }
      // Sorting by eventId needs the keyword mapping: with dynamic mappings this search fails.
      const r = await backend.search({ projectId: "p1" });
      expect(r.hits.map((h) => h.eventId)).toEqual(["ev02", "ev01"]);
      expect((await backend.groupEvents("p1", "g1", {})).events).toHaveLength(2);
      // Idempotent: another isolate's check finds everything in place and changes nothing.
      expect(await ensureSearchSchema(request, prefix)).toEqual({
        templateInstalled: false,
        indicesUpdated: [],
      });
    });

    it("refuses an index created with dynamic mappings, says what to run, and writes nothing into it", async () => {
      const prefix = freshPrefix("dyn");
      // What happened before this check existed: a _bulk auto-created the index, dynamic mappings.
      const auto = await es("POST", `/${prefix}-2024.01/_doc?refresh=true`, {
        eventId: "x",
        projectId: "p1",
      });
      expect(auto.status).toBe(201);
      const backend = new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true });
      const err = await backend.ensureSchema().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SearchSchemaError);
      expect(String((err as Error).message)).toContain(`${prefix}-2024.01`);
      expect(String((err as Error).message)).toContain("npm run search:setup");
      // The indexer's write path: every doc waits for a retry, none lands in the wrong index.
      expect(await backend.index([corpusDoc(3)])).toEqual(["retry"]);
      const count = await es("GET", `/${prefix}-*/_count`);
      expect(count.json.count).toBe(1);
    });

    it("adds the fields a newer template brings to indices made by an older one", async () => {
      const prefix = freshPrefix("old");
      const body = indexTemplate(prefix);
      const { segmentKey, segmentOffset, segmentLength, ...older } = body.template.mappings.properties;
      expect(segmentKey && segmentOffset && segmentLength).toBeTruthy();
      const index = `${prefix}-2024.01`;
      const put = await es("PUT", `/${index}`, {
        settings: { index: { number_of_replicas: 0 } },
        mappings: { ...body.template.mappings, properties: older },
      });
      expect(put.status).toBe(200);
      const report = await new ElasticsearchBackend({ url, indexPrefix: prefix }).ensureSchema();
      expect(report).toEqual({ templateInstalled: true, indicesUpdated: [index] });
      const backend = new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true });
      expect(await backend.index([corpusDoc(1)])).toEqual(["ok"]);
      expect((await backend.get("p1", "ev01"))?.segment).toEqual({
        key: "segments/seg-1",
        offset: 100,
        length: 91,
      });
    });
  });
}
