// Shared fixtures for the processor's workerd tests: Raygun items from a real SDK report, batch
// bodies, delivery of a batch to the processor's queue handler, and D1 look-ups.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import { newEventId } from "../../shared/ids";
import type { IngestBatch, IngestItem } from "../../shared/queue-message";
import { readDirectory } from "../../shared/storage/segments";
import { createTestProject, metaDbOf, setRetention, type TestProject } from "../../test/helpers";
import nodeReport from "../edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import { recordDeadLetters } from "./dead-letters";
import processor from "./index";

export function raygunItem(
  p: TestProject,
  overrides: Partial<IngestItem> = {},
  message = "boom",
): IngestItem {
  const report = structuredClone(nodeReport);
  report.details.error.message = message;
  report.occurredOn = new Date().toISOString();
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
    ...overrides,
  };
}

export const batchBody = (items: IngestItem[], id = crypto.randomUUID()): string =>
  JSON.stringify({ v: 1, id, items } satisfies IngestBatch);

/** Runs the processor's queue handler on one batch of `bodies` from `queue`. */
export async function deliver(
  bodies: string[],
  { attempts = 1, environment = env as unknown, queue = "sluice-errors-0" } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((b, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: b })),
  );
  const ctx = createExecutionContext();
  await processor.queue(batch, environment as ProcessorEnv);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** A `segments` row naming a project, with the metadata shard it is on. */
export interface SegmentRowOf {
  shard: number;
  key: string;
  created_at: number;
  expires_at: number;
  contents: string;
  shards: string | null;
}

/** The `segments` rows that name `p`, on every shard (a batch's row is on its home shard). */
export async function segmentRowsOf(p: TestProject): Promise<SegmentRowOf[]> {
  const rows = await Promise.all(
    shardDbs(env).map(async (db, shard) =>
      (
        await db
          .prepare(
            `SELECT key, created_at, expires_at, contents, shards FROM segments
             WHERE json_valid(contents) AND json_type(contents, '$."' || ? || '"') IS NOT NULL`,
          )
          .bind(String(p.id))
          .all<Omit<SegmentRowOf, "shard">>()
      ).results.map((r) => ({ shard, ...r })),
    ),
  );
  return rows.flat();
}

/**
 * The project's events stored in R2 segments, as each segment's own directory lists them (errors
 * have no per-event D1 row: their pointers live in the search index, which needs the indexer to
 * run). The segments table says which segments hold items of the project.
 */
export async function storedEventIds(p: TestProject): Promise<string[]> {
  const keys = new Set((await segmentRowsOf(p)).map((r) => r.key));
  const ids = new Set<string>();
  for (const key of keys) {
    const directory = await readDirectory(env.BLOBS, key);
    expect(directory, `segment ${key} has a directory`).not.toBeNull();
    for (const e of directory!) if (e.projectId === String(p.id)) ids.add(e.eventId);
  }
  return [...ids].sort();
}

export interface DeadLetterRow {
  id: string;
  reason: string;
  body: string;
  project_id: number | null;
  created_at: number;
}

export async function deadLetterRows(projectId: string): Promise<DeadLetterRow[]> {
  return (
    await env.DB.prepare(
      "SELECT id, reason, body, project_id, created_at FROM dead_letters WHERE project_id = ?",
    )
      .bind(Number(projectId))
      .all<DeadLetterRow>()
  ).results;
}

/** Runs the DLQ consumer on one message, with D1 refusing every write when `failD1`. */
export async function recordOne(body: string, failD1 = false, id = `dl-${crypto.randomUUID()}`) {
  const db = failD1
    ? new Proxy(env.DB, {
        get(target, prop) {
          if (prop === "prepare" || prop === "batch")
            return () => {
              throw new Error("injected D1 failure");
            };
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      })
    : env.DB;
  const batch = createMessageBatch("sluice-dlq", [{ id, timestamp: new Date(), attempts: 4, body }]);
  await recordDeadLetters(batch, { ...env, DB: db });
  expect((await getQueueResult(batch, createExecutionContext())).ackAll).toBe(true);
  return id;
}

/** `env` with one metadata shard's transactions (batch()) failing. */
export function shardFailing(shard: number): typeof env {
  const db = shardDbs(env)[shard]!;
  const failing = new Proxy(db, {
    get(target, prop) {
      if (prop === "batch")
        return async () => {
          throw new Error("injected failure of one metadata shard");
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { ...env, [`DB_SHARD_${shard}`]: failing } as typeof env;
}

const DAY = 86_400_000;

/** Outcome rows of `p` still on its shard. */
export async function outcomeRows(p: TestProject): Promise<number> {
  const row = await (await metaDbOf(p.id))
    .prepare("SELECT count(*) AS n FROM outcomes WHERE project_id = ?")
    .bind(p.id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** A project with a one-day retention and `minutes` outcome rows of two days before `now`. */
export async function expiringProject(name: string, now: number, minutes: number): Promise<TestProject> {
  const p = await createTestProject(name);
  await setRetention(p, 1);
  await (await metaDbOf(p.id))
    .prepare(
      `INSERT INTO outcomes (project_id, minute, category, outcome, quantity)
       SELECT ?1, ?2 + value * 60000, 'error', 'accepted', 1 FROM json_each(?3)`,
    )
    .bind(p.id, now - 2 * DAY, JSON.stringify(Array.from({ length: minutes }, (_, i) => i)))
    .run();
  return p;
}

/**
 * Delivers one event of `p` with folding deferred, and returns its shard and the group delta the
 * batch left there (pending until a fold).
 */
export async function deferredDelta(p: TestProject): Promise<{
  db: D1Database;
  delta: { batch_id: string; created_at: number; groups: string; hours: string };
}> {
  const id = `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;
  await deliver([JSON.stringify({ v: 1, id, items: [raygunItem(p)] } satisfies IngestBatch)], {
    environment: { ...env, GROUP_FOLD_MS: "600000" },
  });
  const db = await metaDbOf(p.id);
  const delta = await db
    .prepare("SELECT batch_id, created_at, groups, hours FROM group_deltas WHERE instr(groups, ?) > 0")
    .bind(`"p":${p.id},`)
    .first<{ batch_id: string; created_at: number; groups: string; hours: string }>();
  if (!delta) throw new Error(`no pending group delta of project ${p.id}`);
  return { db, delta };
}
