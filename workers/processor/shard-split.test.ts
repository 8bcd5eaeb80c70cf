// Metadata sharding in the processor, inside workerd against real local D1 (the control database
// and four shards): new projects land on every shard, routing over 4 queue shards and 4 metadata
// shards loses and doubles nothing, one message spread over two shards writes one
// transaction per shard, and a failure on one shard retries without double-counting on the other.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { projectShards, shardDbs } from "../../shared/db/shards";
import type { IngestBatch, IngestItem } from "../../shared/queue-message";
import { api, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { hashString } from "../edge/enqueue";
import { ledgerHolds } from "./ledger-sql";
import { processBatch } from "./process-batch";
import { ledgerKeys, shareKey } from "./shard-split";
import { raygunItem, shardFailing } from "./test-helpers";

const messageId = () => `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;

/** Two test projects on different metadata shards (placement alternates by load). */
async function projectsOnTwoShards(): Promise<[TestProject, TestProject]> {
  const a = await createTestProject("shard-a");
  for (;;) {
    const b = await createTestProject("shard-b");
    const shards = await projectShards(env, [a.id, b.id]);
    if (shards.get(a.id) !== shards.get(b.id)) return [a, b];
  }
}

async function run(bodies: IngestBatch[], environment: unknown = env, attempts = 1) {
  const batch = createMessageBatch(
    "sluice-errors-0",
    bodies.map((b, i) => ({
      id: `s${i}-${attempts}`,
      timestamp: new Date(),
      attempts,
      body: JSON.stringify(b),
    })),
  );
  const metrics = await processBatch(batch, environment as ProcessorEnv);
  return { metrics, result: await getQueueResult(batch, createExecutionContext()) };
}

const groupCount = async (p: TestProject) =>
  (await api<{ groups: { count: number }[] }>(`/api/v1/projects/${p.id}/groups`)).body.groups.reduce(
    (n, g) => n + g.count,
    0,
  );

/** Whether p's shard's ledger holds p's share of message `id` (the ledger keeps shares). */
async function ledgerHas(p: TestProject, id: string) {
  const key = shareKey(id, p.id);
  return (await ledgerHolds(await metaDbOf(p.id), [key])).has(key);
}

describe("metadata shards", () => {
  it("places new projects on every shard, least loaded first", async () => {
    expect(shardDbs(env)).toHaveLength(4);
    const made: TestProject[] = [];
    for (let i = 0; i < 4; i++) made.push(await createTestProject(`place-${i}`));
    const shards = await projectShards(
      env,
      made.map((p) => p.id),
    );
    expect(new Set(shards.values())).toEqual(new Set([0, 1, 2, 3]));
    const view = await api<{ shard: number }>(`/api/v1/projects/${made[0]!.id}`);
    expect(view.body.shard).toBe(shards.get(made[0]!.id));
  });

  it("splits a message over two shards: one transaction and one ledger row per shard, each project's rows on its own shard", async () => {
    const [a, b] = await projectsOnTwoShards();
    const id = messageId();
    const items: IngestItem[] = [raygunItem(a), raygunItem(a), raygunItem(b), raygunItem(b), raygunItem(b)];
    const { metrics, result } = await run([{ v: 1, id, items }]);
    expect(result.explicitAcks).toHaveLength(1);
    // Rows on the two projects' shards, and on any other only the segment's row (4 b-tree entries,
    // on the shard its key hashes to).
    const placed = await projectShards(env, [a.id, b.id]);
    const own = new Set([placed.get(a.id), placed.get(b.id)]);
    for (const [s, n] of metrics.d1RowsByShard.entries()) {
      if (own.has(s)) expect(n).toBeGreaterThan(0);
      else expect([0, 4]).toContain(n);
    }
    expect(await groupCount(a)).toBe(2);
    expect(await groupCount(b)).toBe(3);
    expect(await ledgerHas(a, id)).toBe(true);
    expect(await ledgerHas(b, id)).toBe(true);
    // Nothing of a project lands on the other shard.
    for (const [p, q] of [
      [a, b],
      [b, a],
    ] as const) {
      const wrong = await (await metaDbOf(q.id))
        .prepare("SELECT count(*) AS n FROM group_hours WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ n: number }>();
      expect(wrong?.n).toBe(0);
    }
  });

  it("a failure on one shard retries the message; the retry counts only on that shard (no double count on the other)", async () => {
    const [a, b] = await projectsOnTwoShards();
    const shardB = (await projectShards(env, [b.id])).get(b.id)!;
    const id = messageId();
    const body: IngestBatch = {
      v: 1,
      id,
      items: [raygunItem(a), raygunItem(a), raygunItem(b), raygunItem(b), raygunItem(b)],
      // The edge's drop counts of both projects travel on the same message.
      outcomes: [
        {
          projectId: a.id,
          category: "error",
          outcome: "filtered",
          reason: "browser-extension",
          quantity: 4,
          at: Date.now(),
        },
        {
          projectId: b.id,
          category: "error",
          outcome: "filtered",
          reason: "browser-extension",
          quantity: 7,
          at: Date.now(),
        },
      ],
    };
    const first = await run([body], shardFailing(shardB), 1);
    expect(first.result.explicitAcks).toHaveLength(0);
    expect(first.result.retryMessages).toHaveLength(1);
    // Shard A committed its share (ledger row in the same transaction); shard B has nothing.
    expect(await groupCount(a)).toBe(2);
    expect(await groupCount(b)).toBe(0);
    expect(await ledgerHas(a, id)).toBe(true);
    expect(await ledgerHas(b, id)).toBe(false);

    // The retry, shards healthy: B counted once, A not again; then a plain redelivery changes nothing.
    for (const attempts of [2, 3]) {
      const again = await run([body], env, attempts);
      expect(again.result.explicitAcks).toHaveLength(1);
      expect(await groupCount(a)).toBe(2);
      expect(await groupCount(b)).toBe(3);
    }
    for (const [p, n] of [
      [a, 4],
      [b, 7],
    ] as const) {
      const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
        `/api/v1/projects/${p.id}/stats`,
      );
      expect(stats.body.totals.find((t) => t.outcome === "filtered")?.quantity).toBe(n);
      expect(stats.body.totals.find((t) => t.outcome === "accepted")?.quantity).toBe(p === a ? 2 : 3);
    }
  });

  it("routes over 4 queue shards and 4 metadata shards: every event counted once, on its project's shard only", async () => {
    const projects: TestProject[] = [];
    for (let i = 0; i < 8; i++) projects.push(await createTestProject(`route-${i}`));
    const shardOf = await projectShards(
      env,
      projects.map((p) => p.id),
    );
    expect(new Set(shardOf.values()).size).toBe(4);
    // 240 events, 3 per message, each to the queue shard the edge's hash picks (workers/edge/enqueue.ts).
    const sent = new Map<string, number>();
    const queues: IngestBatch[][] = [[], [], [], []];
    for (let m = 0; m < 80; m++) {
      const items = Array.from({ length: 3 }, (_, k) => raygunItem(projects[(m + k) % 8]!));
      for (const it of items) sent.set(it.projectId, (sent.get(it.projectId) ?? 0) + 1);
      const q = hashString(`${items[0]!.projectId}:${items[0]!.eventId}`) % 4;
      queues[q]!.push({ v: 1, id: messageId(), items });
    }
    expect(queues.every((q) => q.length > 0)).toBe(true);
    for (const [q, bodies] of queues.entries()) {
      const batch = createMessageBatch(
        `sluice-errors-${q}`,
        bodies.map((b, i) => ({
          id: `q${q}-${i}`,
          timestamp: new Date(),
          attempts: 1,
          body: JSON.stringify(b),
        })),
      );
      const metrics = await processBatch(batch, env as ProcessorEnv);
      expect(metrics.retried).toBe(0);
      expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toHaveLength(
        bodies.length,
      );
    }
    const dbs = shardDbs(env);
    for (const p of projects) {
      expect(await groupCount(p)).toBe(sent.get(p.id));
      for (const [s, db] of dbs.entries()) {
        const r = await db
          .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
          .bind(Number(p.id))
          .first<{ n: number }>();
        expect(r?.n, `project ${p.id} on shard ${s}`).toBe(s === shardOf.get(p.id) ? sent.get(p.id) : 0);
      }
    }
  });

  it("ledger ids with quotes, backslashes or non-ASCII never match another message's id, and still count once", async () => {
    const p = await createTestProject("ledger-ids");
    const slice = Date.now().toString(16).padStart(12, "0").slice(0, 10);
    // Kept raw, the third id as a JSON string ("<slice>abc") would occur inside the first one's JSON.
    const hostile = [`${slice}x"${slice}abc`, `${slice}\\"é😀%22`, `${slice}abc`];
    for (const [i, id] of hostile.entries()) {
      const r = await run([{ v: 1, id, items: [raygunItem(p)] }], env, 1);
      expect(r.result.explicitAcks, id).toHaveLength(1);
      expect(await groupCount(p), id).toBe(i + 1);
    }
    // Redelivering all three (together, in one batch) adds nothing.
    await run(
      hostile.map((id) => ({ v: 1 as const, id, items: [raygunItem(p)] })),
      env,
      2,
    );
    expect(await groupCount(p)).toBe(3);
  });
});

describe("ledgerKeys", () => {
  it("links a dead letter's share and a replayed part to every message they came from", () => {
    expect(ledgerKeys("0190abcdef01xyz")).toEqual(["0190abcdef01xyz"]);
    expect(ledgerKeys("m:7")).toEqual(["m:7", "m"]);
    expect(ledgerKeys("m:replay-0")).toEqual(["m:replay-0", "m"]);
    expect(ledgerKeys("m:7:replay-12")).toEqual(["m:7:replay-12", "m:7", "m"]);
    expect(ledgerKeys("m:x")).toEqual(["m:x"]);
    expect(ledgerKeys("m:replay-")).toEqual(["m:replay-"]);
    expect(ledgerKeys(":7")).toEqual([":7"]);
  });
});
