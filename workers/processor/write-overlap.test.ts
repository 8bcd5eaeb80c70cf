// The processor's overlapped writes (process-batch.ts), inside workerd against real local Queues,
// D1 and R2: a batch of events the search index makes readable runs its D1 transaction beside the
// segment PUT, so a PUT can fail after D1 committed; the retry must then store every event again
// (the ledger says "applied", which must not mean "stored") and count none twice. A batch with an
// item kept through a pointer row writes D1 only after the PUT, as before.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import type { IngestItem } from "../../shared/queue-message";
import { readRecord } from "../../shared/storage/segments";
import { api, createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";
import { ledgerHolds } from "./ledger-sql";
import { shareKey } from "./shard-split";
import { batchBody, deliver, raygunItem, segmentRowsOf } from "./test-helpers";

/** A message id as the edge makes them: send time in 12 hex digits, then a unique part. */
const messageId = () => `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;

/**
 * The processor's env with every segment PUT failing: `after: "d1"` fails it once a metadata
 * shard's D1 batch has committed (or after 2 s, should none start), `after: "delay"` after 50 ms.
 */
function putFailingEnv(after: "d1" | "delay") {
  let committed!: () => void;
  const d1Committed = new Promise<void>((resolve) => {
    committed = resolve;
  });
  const log: string[] = [];
  const blobs = new Proxy(env.BLOBS, {
    get(target, prop) {
      if (prop === "put")
        return async (key: string) => {
          if (!key.startsWith("segments/")) throw new Error(`unexpected PUT ${key}`);
          if (after === "d1") await Promise.race([d1Committed, new Promise((r) => setTimeout(r, 2000))]);
          else await new Promise((r) => setTimeout(r, 50));
          log.push("put failed");
          throw new Error("injected R2 failure");
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const watched = (db: D1Database) =>
    new Proxy(db, {
      get(target, prop) {
        if (prop === "batch")
          return async (statements: D1PreparedStatement[]) => {
            const r = await target.batch(statements);
            log.push("d1 committed");
            committed();
            return r;
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  const shards = Object.fromEntries(shardDbs(env).map((db, i) => [`DB_SHARD_${i}`, watched(db)]));
  return { env: { ...env, ...shards, BLOBS: blobs }, log };
}

const groupCounts = async (p: TestProject) =>
  (await api<{ groups: { count: number }[] }>(`/api/v1/projects/${p.id}/groups`)).body.groups.map(
    (g) => g.count,
  );

async function aggregates(p: TestProject) {
  const db = await metaDbOf(p.id);
  const hours = await db
    .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
    .bind(Number(p.id))
    .first<{ n: number }>();
  const accepted = await db
    .prepare(
      "SELECT coalesce(sum(quantity), 0) AS n FROM outcomes WHERE project_id = ? AND outcome = 'accepted'",
    )
    .bind(Number(p.id))
    .first<{ n: number }>();
  return { hours: hours?.n ?? 0, accepted: accepted?.n ?? 0 };
}

/** The project's search documents (the D1 FTS5 backend of this pool), fed by the real index queue. */
const indexed = async (p: TestProject) =>
  (
    await env.DB.prepare(
      "SELECT event_id, segment_key, segment_offset, segment_length FROM search_docs WHERE project_id = ?",
    )
      .bind(p.id)
      .all<{ event_id: string; segment_key: string; segment_offset: number; segment_length: number }>()
  ).results;

/** Whether p's shard's ledger holds p's share of message `id`. */
const holds = async (p: TestProject, id: string) =>
  (await ledgerHolds(await metaDbOf(p.id), [shareKey(id, p.id)])).has(shareKey(id, p.id));

describe("the segment PUT beside the D1 batch", () => {
  it("a PUT that fails after D1 committed: the retry stores every event again, counts stay exact, every event reads back", async () => {
    const p = await createTestProject("put-after-d1");
    const marker = `overlap${crypto.randomUUID().replaceAll("-", "")}`;
    const items = [raygunItem(p, {}, `${marker} first`), raygunItem(p, {}, `${marker} second`)];
    const id = messageId();
    const b = batchBody(items, id);

    const failing = putFailingEnv("d1");
    const first = await deliver([b], { attempts: 1, environment: failing.env });
    expect(first.result.explicitAcks).toHaveLength(0);
    expect(first.result.retryMessages).toHaveLength(1);
    // The D1 batch ran beside the PUT and committed before it failed (a group fold may follow):
    // the message is counted...
    expect(failing.log.slice(0, 2)).toEqual(["d1 committed", "put failed"]);
    expect(await holds(p, id)).toBe(true);
    expect(await groupCounts(p)).toEqual([2]);
    // ...and nothing made its events readable: no search document, no pointer row, no object.
    expect(await indexed(p)).toHaveLength(0);
    const segmentRows = await segmentRowsOf(p);
    const lost = await Promise.all(
      segmentRows.map(async (r) => [r.key, await env.BLOBS.head(r.key)] as const),
    );
    expect(lost.filter(([, head]) => head === null).length).toBeGreaterThanOrEqual(1);

    // The retry, R2 healthy again: every event stored in a new segment and indexed, none counted again.
    const second = await deliver([b], { attempts: 2 });
    expect(second.result.explicitAcks).toHaveLength(1);
    const docs = await waitFor(async () => {
      const d = await indexed(p);
      return d.length >= 2 ? d : null;
    });
    expect(docs.map((d) => d.event_id).sort()).toEqual(items.map((i) => i.eventId).sort());
    for (const d of docs) {
      expect(await env.BLOBS.head(d.segment_key), `segment ${d.segment_key} exists`).not.toBeNull();
      const record = await readRecord(
        env.BLOBS,
        d.segment_key,
        { offset: d.segment_offset, length: d.segment_length },
        { eventId: d.event_id, projectId: String(p.id) },
      );
      expect(record?.header.eventId).toBe(d.event_id);
    }
    expect(await groupCounts(p)).toEqual([2]);
    expect(await aggregates(p)).toEqual({ hours: 2, accepted: 2 });
    // The console reads every event, and search finds them.
    for (const it of items) {
      const detail = await api<{ event: { message?: string }; raw: unknown }>(
        `/api/v1/projects/${p.id}/events/${it.eventId}`,
      );
      expect(detail.status).toBe(200);
      expect(JSON.stringify(detail.body.raw)).toContain(marker);
    }

    // The route hands the project id on canonically: a zero-padded one finds the same event.
    const padded = await api<{ raw: unknown }>(`/api/v1/projects/00${p.id}/events/${items[0]!.eventId}`);
    expect(padded.status).toBe(200);
    expect(JSON.stringify(padded.body.raw)).toContain(marker);
    const search = await api<{ total: number }>(`/api/v1/projects/${p.id}/search?q=${marker}`);
    expect(search.body.total).toBe(2);
  });

  it("a batch with a pointer-row item writes D1 only after the PUT: a failed PUT leaves the ledger and counts untouched", async () => {
    const p = await createTestProject("put-then-d1");
    const unknown: IngestItem = {
      ...raygunItem(p),
      protocol: "sentry",
      itemType: "future_thing",
      category: "default",
      payload: "hello",
      size: 5,
    };
    const id = messageId();
    const b = batchBody([raygunItem(p), unknown], id);

    const failing = putFailingEnv("delay");
    const first = await deliver([b], { attempts: 1, environment: failing.env });
    expect(first.result.retryMessages).toHaveLength(1);
    expect(failing.log).toEqual(["put failed"]);
    expect(await holds(p, id)).toBe(false);
    expect(await groupCounts(p)).toEqual([]);

    const second = await deliver([b], { attempts: 2 });
    expect(second.result.explicitAcks).toHaveLength(1);
    expect(await groupCounts(p)).toEqual([1]);
    const detail = await api<{ raw: string }>(`/api/v1/projects/${p.id}/events/${unknown.eventId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.raw).toBe("hello");
    // Its D1 pointer row is found by the project's number, so a zero-padded id in the route reads
    // it too, and the record is picked from its block by the project's canonical id.
    const padded = await api<{ raw: string }>(`/api/v1/projects/00${p.id}/events/${unknown.eventId}`);
    expect(padded.status).toBe(200);
    expect(padded.body.raw).toBe("hello");
  });
});
