// Faults in the processor path, in workerd against real local D1, R2 and Queues: intermittent R2
// and D1 errors, every message delivered twice (in other groupings, and concurrently), a consumer
// crash mid-batch, and dead letters replayed through the API. After each: every accepted event is
// in the event index once with a pointer that range-reads its own record from R2 (the search
// backend: D1 FTS5 in this pool, Elasticsearch under vitest.reliability-es.config.ts; no D1 row per
// event), counted once (group counters, the hourly
// group aggregate and "accepted" outcomes all sum to N) and searchable, and the figures are printed.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldAll } from "../../shared/db/group-fold";
import { shardDbs } from "../../shared/db/shards";
import { newEventId } from "../../shared/ids";
import type { IngestBatch, IngestItem } from "../../shared/queue-message";
import { createSearchBackend } from "../../shared/search/index";
import { readRecord } from "../../shared/storage/segments";
import nodeReport from "../../workers/edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import processor from "../../workers/processor/index";
import { metaDbOf } from "../helpers";
import {
  api,
  createProject,
  deadLetterRows,
  groupCountSum,
  outcomeTotals,
  type Project,
  reportFigures,
  searchTotal,
  waitFor,
  watchRetries,
} from "./harness";

const N = 60;
const ITEMS_PER_MESSAGE = 3;

/** A deterministic PRNG (mulberry32) so a failing grouping can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Alternating Raygun reports and Sentry events, each carrying the scenario's search marker. */
function item(p: Project, marker: string, i: number): IngestItem {
  const receivedAt = Date.now();
  const base = { projectId: p.id, eventId: newEventId(receivedAt), receivedAt, category: "error" as const };
  const client = { ip: "203.0.113.7", userAgent: "reliability", country: null, colo: null };
  if (i % 2 === 0) {
    const report = structuredClone(nodeReport);
    report.occurredOn = new Date().toISOString();
    report.details.error.message = `${marker} raygun failure number ${i}`;
    const payload = JSON.stringify(report);
    return { ...base, protocol: "raygun", itemType: "entry", client, payload, size: payload.length };
  }
  const event = {
    event_id: base.eventId,
    timestamp: Date.now() / 1000,
    level: "error",
    platform: "node",
    exception: { values: [{ type: "SentryFault", value: `${marker} sentry failure number ${i}` }] },
  };
  const payload = JSON.stringify(event);
  return {
    ...base,
    protocol: "sentry",
    itemType: "event",
    client,
    payload,
    size: payload.length,
    meta: { envelope: {}, item: { type: "event" }, eventId: base.eventId },
  };
}

/** A message id as the edge makes them: send time in hex first (the ledger prunes by it). */
const messageId = () => `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;

interface IndexedRow {
  event_id: string;
  segment_key: string | null;
  segment_offset: number | null;
  segment_length: number | null;
}

/**
 * The project's event index entries, read through the search backend the pool configures (D1 FTS5,
 * or Elasticsearch under vitest.reliability-es.config.ts): every hit, then each one's pointer.
 */
async function indexed(projectId: string): Promise<IndexedRow[]> {
  const backend = createSearchBackend(env);
  const rows: IndexedRow[] = [];
  let cursor: string | null = null;
  do {
    const page = await backend.search({ projectId, q: "", limit: 100, cursor });
    for (const hit of page.hits) {
      const e = await backend.get(projectId, hit.eventId);
      rows.push({
        event_id: hit.eventId,
        segment_key: e?.segment?.key ?? null,
        segment_offset: e?.segment?.offset ?? null,
        segment_length: e?.segment?.length ?? null,
      });
    }
    cursor = page.next;
  } while (cursor);
  return rows;
}

/** Occurrences in the hourly group aggregate (histogram, sparklines), read as every reader does: after folding pending group deltas. */
async function hourlySum(projectId: string): Promise<number> {
  const db = await metaDbOf(projectId);
  await foldAll(db);
  const r = await db
    .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
    .bind(Number(projectId))
    .first<{ n: number }>();
  return r?.n ?? 0;
}

/** D1 rows per event (the pointer table of items without a search document): none for errors. */
async function perEventRows(projectId: string): Promise<number> {
  const r = await (await metaDbOf(projectId))
    .prepare("SELECT count(*) AS n FROM events WHERE project_id = ?")
    .bind(Number(projectId))
    .first<{ n: number }>();
  return r?.n ?? 0;
}

interface Scenario {
  project: Project;
  marker: string;
  items: IngestItem[];
  bodies: string[];
}

async function scenario(name: string): Promise<Scenario> {
  const project = await createProject(`faults-${name}`);
  const marker = `mk${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const items = Array.from({ length: N }, (_, i) => item(project, marker, i));
  const bodies: string[] = [];
  for (let i = 0; i < items.length; i += ITEMS_PER_MESSAGE) {
    const batch: IngestBatch = {
      v: 1,
      id: messageId(),
      items: items.slice(i, i + ITEMS_PER_MESSAGE),
    };
    bodies.push(JSON.stringify(batch));
  }
  return { project, marker, items, bodies };
}

type Rule = (call: number) => "fail" | "fail-after" | "ok";
const everyNth =
  (n: number): Rule =>
  (call) =>
    call % n === 0 ? "fail" : "ok";
const firstCalls =
  (k: number, mode: "fail" | "fail-after" = "fail"): Rule =>
  (call) =>
    call <= k ? mode : "ok";

/** The control database and every metadata shard, each wrapped by `faulty` with one shared rule. */
function faultyD1(methods: string[], rule: Rule, counter: { injected: number }) {
  return {
    DB: faulty(env.DB, methods, rule, counter),
    ...Object.fromEntries(
      shardDbs(env).map((db, i) => [`DB_SHARD_${i}`, faulty(db, methods, rule, counter)]),
    ),
  };
}

/**
 * Wraps one binding so that calls to `methods` fail by `rule` (1-based call count per binding):
 * "fail" throws before the call, "fail-after" performs it and then throws (a crash after the write).
 */
function faulty<T extends object>(
  target: T,
  methods: string[],
  rule: Rule,
  counter: { injected: number },
): T {
  let calls = 0;
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof value !== "function") return value;
      if (!methods.includes(String(prop))) return value.bind(t);
      return async (...args: unknown[]) => {
        const verdict = rule(++calls);
        if (verdict === "fail") {
          counter.injected++;
          throw new Error(`injected ${String(prop)} failure #${calls}`);
        }
        const result = await value.apply(t, args);
        if (verdict === "fail-after") {
          counter.injected++;
          throw new Error(`injected crash after ${String(prop)} #${calls}`);
        }
        return result;
      };
    },
  });
}

interface Delivery {
  rounds: number;
  deliveries: number;
  crashes: number;
}

/**
 * Delivers the bodies through processor.queue, in random groupings, until every message is acked
 * (what the queue does: unacked messages come back with attempts + 1).
 */
async function deliverUntilAcked(
  bodies: string[],
  environment: unknown,
  random: () => number,
  maxRounds = 40,
): Promise<Delivery> {
  let pending = bodies.map((body, i) => ({ id: `msg-${i}`, body, attempts: 0 }));
  const stats: Delivery = { rounds: 0, deliveries: 0, crashes: 0 };
  while (pending.length > 0) {
    if (++stats.rounds > maxRounds) throw new Error(`${pending.length} messages never acked`);
    const shuffled = [...pending].sort(() => random() - 0.5);
    const acked = new Set<string>();
    while (shuffled.length > 0) {
      // Batches of 1-4 messages, so a run makes many storage calls for the faults to hit.
      const group = shuffled.splice(0, 1 + Math.floor(random() * 4));
      for (const m of group) m.attempts++;
      const batch = createMessageBatch(
        "sluice-errors-0",
        group.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: m.body })),
      );
      const ctx = createExecutionContext();
      try {
        await processor.queue(batch, environment as ProcessorEnv);
      } catch {
        stats.crashes++;
      }
      for (const id of (await getQueueResult(batch, ctx)).explicitAcks) acked.add(id);
      stats.deliveries += group.length;
    }
    pending = pending.filter((m) => !acked.has(m.id));
  }
  return stats;
}

interface Figures {
  stored: number;
  counted: number;
  hourly: number;
  accepted: number;
  searchable: number;
  lost: number;
}

/** The invariants: indexed once, counted once, searchable; returns the measured figures. */
async function expectInvariants(s: Scenario): Promise<Figures> {
  // The index queue is consumed asynchronously by the real indexer.
  const rows = await waitFor(
    async () => {
      const r = await indexed(s.project.id);
      return r.length >= N ? r : null;
    },
    30_000,
    `all ${N} events indexed`,
  );
  expect(rows).toHaveLength(N);
  expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(s.items.map((i) => i.eventId)));
  // Each pointer range-reads exactly its own record.
  for (const r of rows) {
    const rec = await readRecord(
      env.BLOBS,
      r.segment_key!,
      { offset: r.segment_offset!, length: r.segment_length! },
      { eventId: r.event_id, projectId: String(s.project.id) },
    );
    expect(rec?.header.eventId).toBe(r.event_id);
  }
  expect(await perEventRows(s.project.id)).toBe(0);
  const counted = await groupCountSum(s.project.id);
  expect(counted).toBe(N);
  const hourly = await hourlySum(s.project.id);
  expect(hourly).toBe(N);
  const accepted = (await outcomeTotals(s.project.id)).accepted ?? 0;
  expect(accepted).toBe(N);
  const searchable = await waitFor(
    async () => {
      const n = await searchTotal(s.project.id, s.marker);
      return n >= N ? n : null;
    },
    30_000,
    `all ${N} events searchable`,
  );
  expect(searchable).toBe(N);
  return { stored: rows.length, counted, hourly, accepted, searchable, lost: N - rows.length };
}

const totals = { scenarios: 0, events: 0, faultsSurvived: 0, deliveries: 0, eventsLost: 0 };
let retries: ReturnType<typeof watchRetries>;
beforeAll(() => {
  retries = watchRetries();
});
afterAll(() => {
  retries.restore();
  reportFigures("faults", totals);
});

function record(name: string, figures: Figures, extra: Record<string, unknown>) {
  totals.scenarios++;
  totals.events += N;
  totals.eventsLost += figures.lost;
  totals.faultsSurvived += Number(extra.faultsInjected ?? 0);
  totals.deliveries += Number(extra.deliveries ?? 0);
  reportFigures(`faults:${name}`, { events: N, ...extra, ...figures });
}

describe("faults in the processor path", () => {
  it("intermittent R2 and D1 errors (every 3rd put/get, batch, index send and claim delete fails): nothing lost or doubled", async () => {
    const s = await scenario("intermittent");
    const counter = { injected: 0 };
    const faultyEnv = {
      ...env,
      BLOBS: faulty(env.BLOBS, ["put", "get", "delete"], everyNth(3), counter),
      ...faultyD1(["batch"], everyNth(3), counter),
      Q_INDEX: faulty(env.Q_INDEX, ["send", "sendBatch"], everyNth(3), counter),
    };
    const delivery = await deliverUntilAcked(s.bodies, faultyEnv, prng(1));
    expect(counter.injected).toBeGreaterThan(0);
    record("intermittent", await expectInvariants(s), { faultsInjected: counter.injected, ...delivery });
  });

  it("every message delivered twice, in different groupings and concurrently: nothing doubled", async () => {
    const s = await scenario("twice");
    const random = prng(2);
    const first = await deliverUntilAcked(s.bodies, env, random);
    const second = await deliverUntilAcked([...s.bodies].reverse(), env, random);
    // And once more with two consumers racing on the same messages.
    const [a, b] = await Promise.all([
      deliverUntilAcked(s.bodies, env, prng(3)),
      deliverUntilAcked(s.bodies, env, prng(4)),
    ]);
    const deliveries = first.deliveries + second.deliveries + a.deliveries + b.deliveries;
    expect(deliveries).toBeGreaterThanOrEqual(4 * s.bodies.length);
    // Each redundant delivery is a fault the writers must absorb.
    record("delivered-twice", await expectInvariants(s), {
      faultsInjected: deliveries - s.bodies.length,
      deliveries,
    });
  });

  it.each([
    ["R2 segment written, then D1 throws", "r2-then-d1"],
    ["D1 committed, then the consumer crashes before ack", "after-d1"],
    ["D1 committed and index sent, then the claim delete fails", "after-index"],
  ] as const)("a consumer crash mid-batch (%s): everything is stored once", async (_label, mode) => {
    const s = await scenario(mode);
    const counter = { injected: 0 };
    // The first two deliveries crash at that point; the queue then redelivers.
    const faultyEnv =
      mode === "r2-then-d1"
        ? { ...env, ...faultyD1(["batch"], firstCalls(2), counter) }
        : mode === "after-d1"
          ? { ...env, ...faultyD1(["batch"], firstCalls(2, "fail-after"), counter) }
          : { ...env, BLOBS: faulty(env.BLOBS, ["delete"], firstCalls(2), counter) };
    // Claim-checked items make the last mode meaningful: their blobs are deleted after the index send.
    if (mode === "after-index") {
      for (const it of s.items.slice(0, 6)) {
        const key = `claims/${it.projectId}/${it.eventId}`;
        await env.BLOBS.put(key, it.payload!);
        it.blobKey = key;
        delete it.payload;
      }
      s.bodies = [];
      for (let i = 0; i < s.items.length; i += ITEMS_PER_MESSAGE) {
        s.bodies.push(
          JSON.stringify({ v: 1, id: messageId(), items: s.items.slice(i, i + ITEMS_PER_MESSAGE) }),
        );
      }
    }
    const delivery = await deliverUntilAcked(s.bodies, faultyEnv, prng(5));
    // A claim delete that fails no longer retries a batch that is stored (the blobs are left to the
    // orphan sweep), so that fault strikes once; the other two crash the first two deliveries.
    expect(counter.injected).toBe(mode === "after-index" ? 1 : 2);
    record(`crash-${mode}`, await expectInvariants(s), { faultsInjected: counter.injected, ...delivery });
  });

  it("dead letters replayed: claim-check blobs missing until after max retries, then replayed through the API", async () => {
    const s = await scenario("dlq");
    // Every third message carries claim-checked items whose blob is not in R2 (yet).
    const missing: { key: string; payload: string }[] = [];
    const bodies = s.bodies.map((b, m) => {
      const batch = JSON.parse(b) as IngestBatch;
      if (m % 3 === 0) {
        for (const it of batch.items) {
          const key = `claims/${it.projectId}/${it.eventId}`;
          missing.push({ key, payload: it.payload! });
          it.blobKey = key;
          delete it.payload;
        }
      }
      return JSON.stringify(batch);
    });
    const doomed = missing.length; // each failing item is dead-lettered alone, not its message
    const before = new Set((await deadLetterRows()).map((d) => d.id));
    // Through the real queue: its consumer retries with backoff (2, 4, 8 s), then dead-letters.
    await env.Q_ERRORS_0.sendBatch(bodies.map((body) => ({ body, contentType: "text" as const })));
    const letters = await waitFor(
      async () => {
        const rows = (await deadLetterRows(true)).filter((d) => !before.has(d.id));
        return rows.length >= doomed ? rows : null;
      },
      60_000,
      `${doomed} dead letters`,
    );
    expect(letters).toHaveLength(doomed);
    // Nothing of a dead-lettered message was applied: not indexed, not counted.
    await waitFor(async () => ((await indexed(s.project.id)).length === N - missing.length ? true : null));
    expect(await groupCountSum(s.project.id)).toBe(N - missing.length);
    expect(await hourlySum(s.project.id)).toBe(N - missing.length);
    for (const m of missing) await env.BLOBS.put(m.key, m.payload);
    const ids = letters.map((l) => l.id);
    const replay = await api<{ replayed: number; skipped: unknown[] }>("/api/v1/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify({ ids }),
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ replayed: doomed, skipped: [] });
    await waitFor(
      async () => ((await indexed(s.project.id)).length === N ? true : null),
      30_000,
      "replayed events stored",
    );
    // Replaying again re-sends nothing (replayed_at is set); a forced duplicate changes nothing.
    const again = await api<{ replayed: number }>("/api/v1/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify({ ids }),
    });
    expect(again.body.replayed).toBe(0);
    for (const m of missing) await env.BLOBS.put(m.key, m.payload);
    await deliverUntilAcked(bodies, env, prng(6));
    record("dlq-replay", await expectInvariants(s), {
      faultsInjected: missing.length,
      deadLettered: doomed,
      replayed: replay.body.replayed,
      deliveries: bodies.length * 5,
    });
  });

  it("a batch into a project with 100,000 stored events costs about what it costs into an empty one", async () => {
    // The aggregates count "messages this batch put in the ledger"; if that walked the ledger or
    // the project's history, every batch would get slower as the project grows, until D1 times out
    // and accepted events end in the dead-letter queue. Seed both: 100,000 applied messages and
    // 100,000 hourly aggregate rows (old hours) of the loaded project.
    const empty = await createProject("cost-empty");
    const loaded = await createProject("cost-loaded");
    // Both go to the loaded project's metadata shard, where its batches write.
    const shard = await metaDbOf(loaded.id);
    await shard.batch([
      shard.prepare(
        `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
         INSERT INTO message_ledger (id, batch_id, applied_at) SELECT printf('%032x', i), 'seed', 0 FROM c`,
      ),
      shard
        .prepare(
          `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
         INSERT INTO group_hours (project_id, group_id, hour, release, environment, count, last_seen)
         SELECT ?1, 'seed' || (i % 50), i * 3600000, '', '', 1, i * 3600000 FROM c`,
        )
        .bind(Number(loaded.id)),
    ]);
    const batchOf = (p: Project) => {
      const items = Array.from({ length: 50 }, (_, i) => {
        const it = item(p, "cost", 0);
        const report = JSON.parse(it.payload!);
        report.details.error.className = `Distinct${i}Error`; // 50 groups
        it.payload = JSON.stringify(report);
        return it;
      });
      return createMessageBatch("sluice-errors-0", [
        {
          id: "cost",
          timestamp: new Date(),
          attempts: 1,
          body: JSON.stringify({ v: 1, id: messageId(), items }),
        },
      ]);
    };
    const timed = async (p: Project) => {
      const t = performance.now();
      await processor.queue(batchOf(p), env as unknown as ProcessorEnv);
      return performance.now() - t;
    };
    await timed(empty); // warm-up
    const ms = { empty: [] as number[], loaded: [] as number[] };
    for (let k = 0; k < 3; k++) {
      ms.empty.push(await timed(empty));
      ms.loaded.push(await timed(loaded));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[1]!;
    reportFigures("faults:batch-cost", {
      emptyMs: median(ms.empty),
      loadedMs: median(ms.loaded),
      storedEvents: 100_000,
    });
    expect(median(ms.loaded)).toBeLessThan(3 * median(ms.empty) + 100);
  });
});
