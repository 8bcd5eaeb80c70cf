// The processor's batch path (the DESIGN's "processor" box):
//
//   decode messages ──poison──▶ dead-letter queue
//        │
//   prepare items (load claim checks, scrub, normalize, group) ──poison item──▶ dead-letter queue
//        │
//   one R2 segment PUT ─▶ one D1 batch() ─▶ index queue (search docs) ─▶ ack
//
// Any R2, D1 or queue failure retries the affected messages with exponential backoff; nothing is
// acked before it is stored. R2 is written before D1, so a crash in between leaves only an
// unreferenced segment (collected by the retention sweep) and the retry stores everything again.
// D1 gets aggregates and one ledger row per message (d1-writes.ts), no row per event: each event's
// search document carries its segment pointer, and the search backend is the event index.

import { decodeMessage } from "../../shared/queue-codec";
import type { IngestBatch, IngestItem, OutcomeRecord, SearchDoc } from "../../shared/queue-message";
import { encodeRecord, packSegment, segmentKey } from "../../shared/storage/segments";
import { backoffSeconds } from "./backoff";
import { type StoredRef, writeBatch } from "./d1-writes";
import { itemBudgetMs, PoisonItemError, type Prepared, prepareItem } from "./prepare";
import { toSearchDoc } from "./search-doc";

export interface ProcessEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
  Q_INDEX: Queue;
  Q_DLQ: Queue;
}

export interface BatchMetrics {
  /** The processor invocation's id: the one its segment key, ledger rows and logs carry. */
  batchId: string;
  messages: number;
  items: number;
  stored: number;
  deadLettered: number;
  retried: number;
  r2Writes: number;
  d1RowsWritten: number;
  indexMessages: number;
  /** Items stored per project id (the batch log line's volume signal; never payloads or keys). */
  storedByProject: Record<string, number>;
}

const INDEX_MESSAGE_BYTES = 100_000;

function newBatchId(): string {
  const b = new Uint8Array(10);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export async function deadLetter(
  env: ProcessEnv,
  queue: string,
  reason: string,
  body: unknown,
): Promise<void> {
  await env.Q_DLQ.send(JSON.stringify({ v: 1, deadLetter: { queue, reason }, body }), {
    contentType: "text",
  });
}

async function sendIndexDocs(env: ProcessEnv, docs: SearchDoc[]): Promise<number> {
  if (docs.length === 0) return 0;
  const bodies: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const d of docs) {
    const s = JSON.stringify(d);
    if (parts.length > 0 && size + s.length > INDEX_MESSAGE_BYTES) {
      bodies.push(`{"v":1,"docs":[${parts.join(",")}]}`);
      parts = [];
      size = 0;
    }
    parts.push(s);
    size += s.length + 1;
  }
  if (parts.length > 0) bodies.push(`{"v":1,"docs":[${parts.join(",")}]}`);
  for (let i = 0; i < bodies.length; i += 2) {
    await env.Q_INDEX.sendBatch(
      bodies.slice(i, i + 2).map((body) => ({ body, contentType: "text" as const })),
    );
  }
  return bodies.length;
}

export async function processBatch(batch: MessageBatch<unknown>, env: ProcessEnv): Promise<BatchMetrics> {
  const batchId = newBatchId();
  const metrics: BatchMetrics = {
    batchId,
    messages: batch.messages.length,
    items: 0,
    stored: 0,
    deadLettered: 0,
    retried: 0,
    r2Writes: 0,
    d1RowsWritten: 0,
    indexMessages: 0,
    storedByProject: {},
  };
  const now = Date.now();

  // 1. Decode; poison messages go to the dead-letter queue with the reason. A message delivered
  // twice in one batch is applied once and settled like its first copy.
  const live: { msg: Message<unknown>; body: IngestBatch }[] = [];
  const copies = new Map<Message<unknown>, Message<unknown>>();
  const byId = new Map<string, Message<unknown>>();
  const seenEvents = new Set<string>();
  const duplicateClaims: string[] = [];
  for (const msg of batch.messages) {
    try {
      const body = decodeMessage(msg.body);
      // A message without an id (hand-made) still gets a unique ledger key: applied, never lost.
      if (typeof body.id !== "string" || body.id === "") body.id = `${batchId}-${live.length}`;
      const first = byId.get(body.id);
      if (first) {
        copies.set(msg, first);
        continue;
      }
      byId.set(body.id, msg);
      // The same event in two messages of one batch (a resend) is stored and counted once.
      body.items = body.items.filter((it) => {
        const key = `${it.projectId}\u0000${it.eventId}`;
        if (seenEvents.has(key)) {
          // Its own claim-check blob (keys are unique per item) is deleted with the batch's.
          if (it.blobKey?.startsWith("claims/")) duplicateClaims.push(it.blobKey);
          return false;
        }
        seenEvents.add(key);
        return true;
      });
      live.push({ msg, body });
    } catch (err) {
      await deadLetter(env, batch.queue, `undecodable message: ${(err as Error).message}`, msg.body);
      metrics.deadLettered++;
      msg.ack();
    }
  }

  // 2. Prepare every item; a transient failure fails only its message, and only that item is
  // dead-lettered once the message is on its last attempt (the rest is stored all along).
  const failed = new Set<Message<unknown>>();
  const failedItems: { msg: Message<unknown>; item: IngestItem; reason: string }[] = [];
  const budget = itemBudgetMs(env);
  const prepared: { msg: Message<unknown>; messageId: string; p: Prepared }[] = [];
  const poisoned: { item: IngestItem; reason: string }[] = [];
  await Promise.all(
    live.flatMap(({ msg, body }) =>
      body.items.map(async (item) => {
        metrics.items++;
        try {
          prepared.push({ msg, messageId: body.id, p: await prepareItem(item, env, budget) });
        } catch (err) {
          if (err instanceof PoisonItemError) poisoned.push({ item, reason: err.message });
          else {
            console.warn(
              JSON.stringify({ msg: "item failed, will retry", eventId: item.eventId, error: String(err) }),
            );
            failed.add(msg);
            failedItems.push({ msg, item, reason: `failed on every attempt: ${String(err)}` });
          }
        }
      }),
    ),
  );
  // A message with a transiently failing item is retried whole, and applied (ledger row, aggregates,
  // storage) only once, when every item of it is stored or dead-lettered; on its last attempt, only
  // the items still failing are dead-lettered and the rest of the message is stored.
  const maxRetries = Number((env as { MAX_RETRIES?: unknown }).MAX_RETRIES) || 5;
  const retrying = new Set([...failed].filter((msg) => msg.attempts < maxRetries));
  for (const { item, reason } of failedItems.filter(({ msg }) => !retrying.has(msg))) {
    poisoned.push({ item, reason });
  }
  const ok = prepared.filter(({ msg }) => !retrying.has(msg));
  // Every message applied by this batch gets a ledger row, with the edge's drop counts it carries.
  const applied = live
    .filter(({ msg }) => !retrying.has(msg))
    .map(({ body }) => ({ id: body.id, outcomes: (body.outcomes ?? []) as OutcomeRecord[] }));

  try {
    // 3. One segment object for the whole batch.
    let segment: { key: string; bytes: number; refs: StoredRef[] } | null = null;
    if (ok.length > 0) {
      const records = await Promise.all(
        ok.map(({ p }) =>
          encodeRecord(
            {
              eventId: p.item.eventId,
              projectId: p.item.projectId,
              protocol: p.item.protocol,
              itemType: p.item.itemType,
              category: p.item.category,
              receivedAt: p.item.receivedAt,
              client: p.item.client,
              meta: p.item.meta,
              policy: p.item.policy,
            },
            p.payload,
          ),
        ),
      );
      const { body, refs } = packSegment(records);
      const key = segmentKey(now, batchId);
      await env.BLOBS.put(key, body, { customMetadata: { batchId, events: String(ok.length) } });
      metrics.r2Writes++;
      segment = {
        key,
        bytes: body.byteLength,
        refs: ok.map(({ p, messageId }, i) => ({ prepared: p, messageId, segmentKey: key, ...refs[i]! })),
      };
    }

    // 4. One D1 batch.
    const d1 = await writeBatch(env.DB, { batchId, now, segment, messages: applied });
    metrics.d1RowsWritten = d1.rowsWritten;

    // 5. Search documents, the event index (idempotent by event id, so they are sent even for
    // redelivered events: a first delivery whose index send failed gets them now).
    const docs = (segment?.refs ?? [])
      .filter(({ prepared: p }) => p.event)
      .map(({ prepared: p, segmentKey: key, offset, length }) =>
        toSearchDoc(p.event!, p.grouping?.groupId ?? null, p.grouping?.fingerprint ?? null, {
          key,
          offset,
          length,
        }),
      );
    metrics.indexMessages = await sendIndexDocs(env, docs);

    // Claim-check blobs held the payload before scrubbing: the segment now has the clean copy.
    const claims = ok
      .map(({ p }) => p.item.blobKey)
      .filter((k): k is string => !!k && k.startsWith("claims/"))
      .concat(duplicateClaims);
    if (claims.length > 0) await env.BLOBS.delete(claims);

    for (const { item, reason } of poisoned) {
      await deadLetter(env, batch.queue, reason, { v: 1, id: `poison-${item.eventId}`, items: [item] });
      metrics.deadLettered++;
    }
  } catch (err) {
    console.error(
      JSON.stringify({
        msg: "batch write failed, retrying",
        queue: batch.queue,
        error: String((err as Error)?.stack ?? err),
      }),
    );
    for (const msg of [...live.map((l) => l.msg), ...copies.keys()]) {
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
      metrics.retried++;
    }
    return metrics;
  }

  for (const { msg } of live) {
    if (retrying.has(msg)) {
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
      metrics.retried++;
    } else {
      msg.ack();
    }
  }
  for (const [copy, first] of copies) {
    if (retrying.has(first)) copy.retry({ delaySeconds: backoffSeconds(copy.attempts) });
    else copy.ack();
  }
  metrics.stored = ok.length;
  for (const { p } of ok) {
    const project = String(p.item.projectId);
    metrics.storedByProject[project] = (metrics.storedByProject[project] ?? 0) + 1;
  }
  return metrics;
}
