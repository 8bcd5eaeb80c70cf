// With Elasticsearch as the event index (the configuration the D1 budget is for): the processor
// writes no D1 row per error event, the search documents it sends carry each event's segment
// pointer, and the console serves event detail (range read from R2) and a group's events (newest
// first, keyset pages) from the real Elasticsearch. Counters stay exact after a redelivery.
// Runs against the shared test node under a unique index prefix and deletes only that prefix.
//
// Without ES this file FAILS, unless the SLUICE_ALLOW_NO_ES binding is "1" (then it skips).
import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import type { IndexBatch, IngestBatch, IngestItem } from "../../shared/queue-message";
import { ElasticsearchBackend } from "../../shared/search/elasticsearch";
import { ADMIN, BASE, createTestProject, metaDbOf } from "../../test/helpers";
import consoleWorker from "../console/index";
import nodeReport from "../edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import { processBatch } from "./process-batch";

const url = (env.SLUICE_TEST_ES_URL ?? "").replace(/\/+$/, "");
const allowNoEs = env.SLUICE_ALLOW_NO_ES === "1";
const prefix = `sluiceproc-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Forwards to the real index queue and keeps a copy of each body (the docs to index in ES). */
function recordingIndexQueue(sent: string[]): Queue {
  return new Proxy(env.Q_INDEX, {
    get(target, prop) {
      if (prop === "sendBatch")
        return (messages: MessageSendRequest[]) => {
          for (const m of messages) sent.push(String(m.body));
          return target.sendBatch(messages);
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

if (!url && allowNoEs) {
  describe.skip("processor with Elasticsearch (no SLUICE_TEST_ES_URL, SLUICE_ALLOW_NO_ES=1)", () => {});
} else if (!url) {
  it("needs a real Elasticsearch", () => {
    expect.fail("SLUICE_TEST_ES_URL binding is empty: set it to a running Elasticsearch");
  });
} else {
  afterAll(async () => {
    const res = await fetch(`${url}/_cat/indices/${prefix}-*?format=json&h=index`);
    for (const { index } of (await res.json()) as Array<{ index: string }>)
      await fetch(`${url}/${index}`, { method: "DELETE" });
    await fetch(`${url}/_index_template/${prefix}`, { method: "DELETE" });
  });

  describe("processor with Elasticsearch as the event index", () => {
    it("no D1 row per event; the console reads event detail and group events from Elasticsearch", async () => {
      const p = await createTestProject("es-index");
      const items: IngestItem[] = Array.from({ length: 12 }, (_, i) => {
        const report = structuredClone(nodeReport);
        report.occurredOn = new Date(Date.now() - (12 - i) * 1000).toISOString();
        report.details.error.message = `es index ${i}`;
        const payload = JSON.stringify(report);
        return {
          protocol: "raygun",
          category: "error",
          itemType: "entry",
          projectId: p.id,
          eventId: newEventId(),
          receivedAt: Date.now(),
          client: { ip: "203.0.113.9", userAgent: "raygun-node", country: null, colo: null },
          payload,
          size: payload.length,
        };
      });
      const bodies = [0, 4, 8].map((at) =>
        JSON.stringify({
          v: 1,
          id: `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`,
          items: items.slice(at, at + 4),
        } satisfies IngestBatch),
      );
      const sent: string[] = [];
      const processorEnv = { ...env, Q_INDEX: recordingIndexQueue(sent) };
      const deliver = (attempts: number) =>
        processBatch(
          createMessageBatch(
            "sluice-errors-0",
            bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
          ),
          processorEnv,
        );
      const first = await deliver(1);
      expect(first.stored).toBe(12);
      await deliver(2); // a redelivery: counted once, indexed once

      const perEvent = await (await metaDbOf(p.id))
        .prepare("SELECT count(*) AS n FROM events WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ n: number }>();
      expect(perEvent?.n).toBe(0);

      // The indexer's job, against the real Elasticsearch (template installed on first write).
      const backend = new ElasticsearchBackend({ url, indexPrefix: prefix, refresh: true });
      const docs = sent.flatMap((b) => (JSON.parse(b) as IndexBatch).docs);
      expect(docs).toHaveLength(24);
      expect(new Set(await backend.index(docs))).toEqual(new Set(["ok"]));

      const consoleEnv = { ...env, ELASTICSEARCH_URL: url, ELASTICSEARCH_INDEX_PREFIX: prefix } as ConsoleEnv;
      const get = async <T>(path: string) => {
        const res = await consoleWorker.fetch(
          new Request(`${BASE}/api/v1/projects/${p.id}${path}`, { headers: ADMIN }),
          consoleEnv,
          createExecutionContext(),
        );
        return { status: res.status, body: (await res.json()) as T };
      };
      const groups = await get<{ groups: { id: string; count: number }[] }>("/groups");
      expect(groups.body.groups.map((g) => g.count)).toEqual([12]);
      const groupId = groups.body.groups[0]!.id;
      const listed: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const page = await get<{ events: { id: string }[]; next: string | null }>(
          `/groups/${groupId}/events?limit=5${q}`,
        );
        expect(page.status).toBe(200);
        listed.push(...page.body.events.map((e) => e.id));
        cursor = page.body.next;
      } while (cursor);
      expect(listed).toEqual(items.map((i) => i.eventId).reverse()); // newest first
      for (const item of [items[0]!, items[11]!]) {
        const detail = await get<{
          raw: { details: { error: { message: string } } };
          summary: { id: string };
        }>(`/events/${item.eventId}`);
        expect(detail.status).toBe(200);
        expect(detail.body.summary.id).toBe(item.eventId);
        expect(detail.body.raw.details.error.message).toBe(JSON.parse(item.payload!).details.error.message);
      }
      // Not indexed (yet): a 404, not an error.
      expect((await get(`/events/${newEventId()}`)).status).toBe(404);
      const hist = await get<{ buckets: { count: number }[] }>(`/groups/${groupId}/histogram?days=1`);
      expect(hist.body.buckets.reduce((n, b) => n + b.count, 0)).toBe(12);
    });
  });
}
