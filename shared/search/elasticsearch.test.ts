// Runs the search conformance suite against a REAL Elasticsearch (scripts/elasticsearch.sh; the
// vitest config passes the SLUICE_TEST_ES_URL environment variable as the binding of that name), plus a bulk request
// with one mapping error (→ dead) and one 429 item. A real node will not 429 on demand, so the
// 429 is simulated by a fetch wrapper that withholds that doc from the first request and answers
// for it with a 429 item, exactly as ES reports a rejected item.
//
// Without ES this file FAILS, unless the SLUICE_ALLOW_NO_ES binding is "1" (then it skips).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { handleIndexBatch, INDEX_QUEUE } from "../../workers/indexer/handle-index-batch";
import type { SearchDoc } from "../queue-message";
import { corpusDoc, runSearchConformance } from "./conformance";
import { ElasticsearchBackend } from "./elasticsearch";
import { indexTemplate } from "./es-template";

const url = ((env as { SLUICE_TEST_ES_URL?: string }).SLUICE_TEST_ES_URL ?? "").replace(/\/+$/, "");
const allowNoEs = (env as { SLUICE_ALLOW_NO_ES?: string }).SLUICE_ALLOW_NO_ES === "1";
const prefix = `sluicetest-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function es(method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

async function makeBackend(options: { fetch?: typeof fetch; totalCap?: number } = {}) {
  const put = await es("PUT", `/_index_template/${prefix}`, indexTemplate(prefix));
  expect(put.status).toBe(200);
  return new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true, ...options });
}

if (!url && allowNoEs) {
  describe.skip("elasticsearch backend (no SLUICE_TEST_ES_URL, SLUICE_ALLOW_NO_ES=1)", () => {});
} else if (!url) {
  it("needs a real Elasticsearch", () => {
    expect.fail(
      "SLUICE_TEST_ES_URL binding is empty: run `bash scripts/elasticsearch.sh start` and set SLUICE_TEST_ES_URL",
    );
  });
} else {
  afterAll(async () => {
    const indices = (await es("GET", `/_cat/indices/${prefix}-*?format=json&h=index`)).json as Array<{
      index: string;
    }>;
    for (const { index } of indices) await es("DELETE", `/${index}`);
    await es("DELETE", `/_index_template/${prefix}`);
  });

  runSearchConformance("elasticsearch", (options) => makeBackend(options));

  describe("elasticsearch bulk partial failure", () => {
    it("indexes or dead-letters every doc exactly once (mapping error → dead, 429 item → retried)", async () => {
      let bulkCalls = 0;
      const throttled = "pf:ev02";
      const flakyFetch: typeof fetch = async (input, init) => {
        if (!String(input).includes("/_bulk") || bulkCalls++ > 0) return fetch(input, init);
        const lines = String(init?.body).trimEnd().split("\n");
        const at = lines.findIndex((l) => l.includes(`"_id":"${throttled}"`));
        const kept = [...lines.slice(0, at), ...lines.slice(at + 2)];
        const res = await fetch(input, { ...init, body: `${kept.join("\n")}\n` });
        const json = (await res.json()) as { errors: boolean; items: unknown[] };
        json.items.splice(at / 2, 0, {
          create: {
            _id: throttled,
            status: 429,
            error: { type: "es_rejected_execution_exception", reason: "simulated" },
          },
        });
        return Response.json({ ...json, errors: true });
      };
      const backend = await makeBackend({ fetch: flakyFetch });
      const docs: SearchDoc[] = [1, 2, 3, 4].map((n) => ({ ...corpusDoc(n), projectId: "pf" }));
      const bad = { ...corpusDoc(5), projectId: "pf", release: { nested: true } } as unknown as SearchDoc;
      expect(await backend.index([...docs.slice(0, 2), bad])).toEqual([
        "ok",
        "retry",
        { dead: expect.stringMatching(/parsing_exception.*release/) },
      ]);

      // The same message through the indexer: first delivery retries, second settles it.
      const letters: Array<{ body: unknown; reason: string }> = [];
      const deadLetter = async (body: unknown, reason: string) => void letters.push({ body, reason });
      const deliver = async (attempts: number) => {
        const batch = createMessageBatch(INDEX_QUEUE, [
          { id: "m", timestamp: new Date(), attempts, body: { v: 1, docs: [...docs, bad] } },
        ]);
        const ctx = createExecutionContext();
        await handleIndexBatch(batch, { backend, deadLetter });
        return getQueueResult(batch, ctx);
      };
      bulkCalls = 0; // the first delivery gets the simulated 429 again
      expect((await deliver(1)).retryMessages).toEqual([{ msgId: "m" }]);
      expect(letters).toEqual([]);
      expect((await deliver(2)).explicitAcks).toEqual(["m"]);
      expect(letters).toEqual([{ body: { v: 1, docs: [bad] }, reason: expect.stringContaining("release") }]);
      const r = await backend.search({ projectId: "pf" });
      expect(r.hits.map((h) => h.eventId).sort()).toEqual(["ev01", "ev02", "ev03", "ev04"]);
    });

    it("retries every doc when the request itself fails (outage, 429/5xx)", async () => {
      const lost: typeof fetch = () => Promise.reject(new TypeError("Network connection lost."));
      const down = new ElasticsearchBackend({ url, indexPrefix: prefix, fetch: lost });
      expect(await down.index([corpusDoc(1)])).toEqual(["retry"]);
      const busy = new ElasticsearchBackend({
        url,
        indexPrefix: prefix,
        fetch: async () => new Response("", { status: 429 }),
      });
      expect(await busy.index([corpusDoc(1), corpusDoc(2)])).toEqual(["retry", "retry"]);
    });

    it("drops whole monthly indices past the maximum retention", async () => {
      const backend = await makeBackend();
      await backend.index([{ ...corpusDoc(1), projectId: "old", occurredAt: "2020-01-15T00:00:00.000Z" }]);
      expect(await backend.dropIndicesOlderThan(Date.UTC(2020, 1, 1))).toEqual([`${prefix}-2020.01`]);
      expect(await backend.dropIndicesOlderThan(Date.UTC(2020, 1, 1))).toEqual([]);
    });
  });
}
