// The indexer's message handling against the FTS backend in workerd: ack on success, dead-letter
// poison, retry with backoff when the backend says so. The poison-time case also runs against the
// real Elasticsearch at SLUICE_TEST_ES_URL when one is configured (elasticsearch.test.ts requires it).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { SearchDoc } from "../../shared/queue-message";
import type { SearchBackend } from "../../shared/search/backend";
import { corpusDoc } from "../../shared/search/conformance";
import { ElasticsearchBackend } from "../../shared/search/elasticsearch";
import { indexTemplate } from "../../shared/search/es-template";
import { FtsSearchBackend } from "../../shared/search/fts";
import { handleIndexBatch, INDEX_QUEUE, retryDelay } from "./handle-index-batch";

const msg = (id: string, body: unknown, attempts = 1) => ({ id, timestamp: new Date(), attempts, body });
const doc = (n: number, over: Partial<SearchDoc> = {}) => ({ ...corpusDoc(n), projectId: "ix", ...over });

async function run(messages: ReturnType<typeof msg>[], backend: SearchBackend) {
  const letters: Array<{ body: unknown; reason: string }> = [];
  const batch = createMessageBatch(INDEX_QUEUE, messages);
  // getQueueResult does not report delays, so the retry options are read from a spy.
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await handleIndexBatch(batch, {
    backend,
    deadLetter: async (body, reason) => void letters.push({ body, reason }),
  });
  const delays = retries.flatMap((spy, i) =>
    spy.mock.calls.map((c) => [batch.messages[i]!.id, c[0]?.delaySeconds]),
  );
  return { result: await getQueueResult(batch, ctx), letters, delays };
}

describe("handleIndexBatch", () => {
  const fts = new FtsSearchBackend(env.DB);

  it("indexes every message's docs and acks them", async () => {
    const { result, letters } = await run(
      [
        msg("a", { v: 1, docs: [doc(1), doc(2)] }),
        msg("b", { v: 1, docs: [doc(9)] }),
        msg("c", { v: 1, docs: [] }),
      ],
      fts,
    );
    expect(result.explicitAcks.sort()).toEqual(["a", "b", "c"]);
    expect(result.retryMessages).toEqual([]);
    expect(letters).toEqual([]);
    expect((await fts.search({ projectId: "ix" })).total).toBe(3);
  });

  it("dead-letters unparseable bodies and poison docs once, acking the message", async () => {
    const poison = doc(3, { eventId: "poison", occurredAt: "yesterday-ish" });
    const { result, letters } = await run(
      [
        msg("bad", "{not json"),
        msg("v2", { v: 2, docs: [] }),
        msg("mixed", { v: 1, docs: [doc(4), poison] }),
      ],
      fts,
    );
    expect(result.explicitAcks.sort()).toEqual(["bad", "mixed", "v2"]);
    expect(letters).toEqual([
      { body: "{not json", reason: expect.stringContaining("unparseable") },
      { body: { v: 2, docs: [] }, reason: expect.stringContaining("version") },
      { body: { v: 1, docs: [poison] }, reason: "invalid document: occurredAt" },
    ]);
    expect(await fts.get("ix", "ev04")).not.toBeNull();
  });

  it("retries with exponential backoff when a doc must be retried, dead-lettering nothing yet", async () => {
    const flaky: SearchBackend = {
      ...fts,
      name: "fts",
      index: async (docs) =>
        docs.map((d) => (d.eventId === "ev06" ? "retry" : d.eventId === "ev07" ? { dead: "x" } : "ok")),
    } as SearchBackend;
    const { result, letters, delays } = await run(
      [msg("r", { v: 1, docs: [doc(5), doc(6), doc(7)] }, 3), msg("ok", { v: 1, docs: [doc(8)] })],
      flaky,
    );
    expect(result.retryMessages).toEqual([{ msgId: "r" }]);
    expect(delays).toEqual([["r", 16]]);
    expect(result.explicitAcks).toEqual(["ok"]);
    expect(letters).toEqual([]);
  });

  it("retries everything when the backend throws (outage) or the DLQ is unreachable", async () => {
    const down = { index: async () => Promise.reject(new Error("down")) } as unknown as SearchBackend;
    const { result, delays } = await run([msg("x", { v: 1, docs: [doc(1)] }, 1)], down);
    expect(result.retryMessages).toEqual([{ msgId: "x" }]);
    expect(delays).toEqual([["x", 4]]);
    const batch = createMessageBatch(INDEX_QUEUE, [msg("y", "garbage", 9)]);
    const retry = vi.spyOn(batch.messages[0]!, "retry");
    const ctx = createExecutionContext();
    await handleIndexBatch(batch, { backend: fts, deadLetter: () => Promise.reject(new Error("no dlq")) });
    expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([{ msgId: "y" }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 300 });
  });

  it("caps the backoff at 300 s", () => {
    expect([1, 2, 3, 7, 8, 20].map(retryDelay)).toEqual([4, 8, 16, 256, 300, 300]);
  });

  describe.each(backends())("one document with an out-of-range time (%s)", (_name, makeBackend) => {
    it("dead-letters only that document; the rest of the batch is indexed and acked", async () => {
      const backend = await makeBackend();
      const projectId = `poison-${backend.name}`;
      const good1 = doc(1, { projectId, eventId: "good1" });
      const good2 = doc(2, { projectId, eventId: "good2" });
      // Finite, so it used to pass validation, but past Date's range: toISOString() threw while the
      // ES bulk body was built (every message of the batch retried, then all dead-lettered), and
      // FTS stored it and then failed every search of the project.
      const poison = doc(3, { projectId, eventId: "poison", occurredAt: 1e16 as unknown as string });
      const { result, letters } = await run(
        [
          msg("m1", { v: 1, docs: [good1] }),
          msg("m2", { v: 1, docs: [poison] }),
          msg("m3", { v: 1, docs: [good2] }),
        ],
        backend,
      );
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks.sort()).toEqual(["m1", "m2", "m3"]);
      expect(letters).toEqual([{ body: { v: 1, docs: [poison] }, reason: "invalid document: occurredAt" }]);
      const found = await backend.search({ projectId });
      expect(found.hits.map((h) => h.eventId).sort()).toEqual(["good1", "good2"]);
    });
  });
});

/** FTS always; Elasticsearch too when the test run has one (a fresh index prefix, dropped after). */
function backends(): Array<[string, () => Promise<SearchBackend>]> {
  const fts: [string, () => Promise<SearchBackend>] = ["fts", async () => new FtsSearchBackend(env.DB)];
  const url = ((env as { SLUICE_TEST_ES_URL?: string }).SLUICE_TEST_ES_URL ?? "").replace(/\/+$/, "");
  if (!url) return [fts];
  const prefix = `sluicetest-ix-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const es = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  afterAll(async () => {
    const res = await es("GET", `/_cat/indices/${prefix}-*?format=json&h=index`);
    for (const { index } of (await res.json()) as Array<{ index: string }>) await es("DELETE", `/${index}`);
    await es("DELETE", `/_index_template/${prefix}`);
  });
  return [
    fts,
    [
      "elasticsearch",
      async () => {
        expect((await es("PUT", `/_index_template/${prefix}`, indexTemplate(prefix))).status).toBe(200);
        return new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true });
      },
    ],
  ];
}
