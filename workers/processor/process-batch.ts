// The processor's batch path (the DESIGN's "processor" box):
//
//   decode messages ──poison──▶ dead-letter queue
//        │
//   ledger look-up (messages already applied: stored again, never counted or dead-lettered again)
//        ║  in flight while the items are prepared (load claim checks, scrub, normalize, group)
//        │
//   encode + pack the segment ─▶ R2 PUT ═══════════════════════════════╗
//        ║ meanwhile: group redirects, feedback groups, alert rules,    ║
//        ║            poison items ─▶ dead-letter queue                 ║
//        │                                                             ║
//   one D1 batch() per shard ══ (beside the PUT when no pointer row) ══╣
//        │                                                             ║
//   index queue (search docs, built while the writes are in flight) + alerts, once both are done
//        │
//   delete claim checks ─▶ ack
//
// Any R2, D1 or queue failure retries the affected messages with exponential backoff; nothing is
// acked before it is stored, and nothing is left in flight when the batch settles (settleAll).
// D1 gets the segment's one row on its home shard first, then one transaction per metadata shard:
// ledger rows and aggregates (shard-split.ts, d1-writes.ts), no row per event: each event's
// search document carries its segment pointer, and the search backend is the event index.
// Why each overlap is safe is argued where it happens (the waits were ~45 % of a batch, in sequence).

import { shardDb, shardDbs } from "../../shared/db/shards";
import { timeHex } from "../../shared/ids";
import { decodeMessage, utf8Length } from "../../shared/queue-codec";
import type { IngestBatch, IngestItem, OutcomeRecord, SearchDoc } from "../../shared/queue-message";
import { settleAll } from "../../shared/settle-all";
import { DIRECTORY_METADATA, packSegment, segmentKey } from "../../shared/storage/segments";
import { loadRules } from "./alert-reads";
import { planAlerts } from "./alerts-hook";
import { backoffSeconds } from "./backoff";
import { type D1WriteInput, type StoredRef, segmentHome, writeSegmentRow } from "./d1-writes";
import { applyRedirects, resolveFeedbackGroups } from "./group-workflow";
import { ledgerId, ledgerScope } from "./ledger-sql";
import { itemBudgetMs, PoisonItemError, type Prepared, prepareItem } from "./prepare";
import { toSearchDoc } from "./search-doc";
import { needsPointerRow } from "./segment-contents";
import {
  appliedBefore,
  byShard,
  projectsOf,
  resolveShards,
  type ShardMap,
  shareKey,
  writeShards,
} from "./shard-split";

export interface ProcessEnv {
  DB: D1Database;
  BLOBS: R2Bucket;
  Q_INDEX: Queue;
  Q_DLQ: Queue;
  /** Alert decisions go here (workers/alerter); without it, none are decided. */
  Q_ALERTS?: Queue;
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
  /** D1 rows written per metadata shard (index = shard number). */
  d1RowsByShard: number[];
  /** Shards whose pending group deltas this batch folded (shared/db/group-fold.ts). */
  groupFolds: number;
  indexMessages: number;
  /** Items stored per project id (the batch log line's volume signal; never payloads or keys). */
  storedByProject: Record<string, number>;
}

/** UTF-8 bytes per index message: under the queue's 128 KB per message (two per sendBatch, ≤ 256 KB). */
const INDEX_MESSAGE_BYTES = 100_000;

/**
 * The id of the one-item message a poison item is dead-lettered as: time-prefixed like the edge's
 * (so the ledger prunes it by key range once replayed) and deterministic per item, so that the same
 * item dead-lettered twice and replayed twice is applied once.
 */
export const poisonMessageId = (item: IngestItem) =>
  `${timeHex(Number.isFinite(item.receivedAt) ? item.receivedAt : Date.now())}poison-${item.projectId}-${item.eventId}`;

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

/**
 * The index queue's message bodies for `docs` (each ≤ ~100 KB): built while the writes are in flight.
 * Sizes are UTF-8 bytes, what the queue's 128 KB limit counts (a length in UTF-16 units undercounts
 * CJK text 3×, and one message over the limit fails the send and so the whole batch). A document
 * is capped well below a message (search-doc.ts); one still too big (a hand-made item's ids) is
 * left out with a warning rather than failing the batch: its event is stored all the same.
 */
function indexBodies(docs: SearchDoc[]): string[] {
  const open = '{"v":1,"docs":[';
  const close = "]}";
  const bodies: string[] = [];
  let parts: string[] = [];
  let size = open.length + close.length;
  for (const d of docs) {
    const s = JSON.stringify(d);
    const bytes = utf8Length(s);
    if (open.length + bytes + close.length > INDEX_MESSAGE_BYTES) {
      console.warn(
        JSON.stringify({ msg: "search document too large, not indexed", eventId: d.eventId, bytes }),
      );
      continue;
    }
    if (parts.length > 0 && size + bytes + 1 > INDEX_MESSAGE_BYTES) {
      bodies.push(`${open}${parts.join(",")}${close}`);
      parts = [];
      size = open.length + close.length;
    }
    size += bytes + (parts.length > 0 ? 1 : 0);
    parts.push(s);
  }
  if (parts.length > 0) bodies.push(`${open}${parts.join(",")}${close}`);
  return bodies;
}

async function sendIndexBodies(env: ProcessEnv, bodies: string[]): Promise<number> {
  for (let i = 0; i < bodies.length; i += 2) {
    await env.Q_INDEX.sendBatch(
      bodies.slice(i, i + 2).map((body) => ({ body, contentType: "text" as const })),
    );
  }
  return bodies.length;
}

/**
 * One turn of the event loop: I/O started just before (a binding call) leaves now, not after the
 * CPU work that follows; awaiting a promise alone never returns to the event loop.
 */
const yieldToIo = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

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
    d1RowsByShard: [],
    groupFolds: 0,
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
      if (typeof body.id !== "string" || body.id === "") body.id = `${timeHex(now)}${batchId}-${live.length}`;
      else body.id = ledgerId(body.id);
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

  // Messages the ledger already holds (a redelivery, or a replayed share of an applied message) are
  // stored again (their search documents may not have been sent) but neither counted again nor
  // their poison items dead-lettered again. Each metadata shard's ledger holds the message's share
  // on that shard (shard-split.ts). If a look-up fails, every message is retried.
  // The look-ups are started before the items are prepared and awaited after: preparing reads
  // nothing the ledger says (it only loads, scrubs, normalizes and groups each item, and whatever it
  // decides is dropped with the batch if the look-up then fails), and every decision that does
  // depend on the ledger (retrying, dead letters, what is applied) waits for it below.
  const bodies = live.map(({ body }) => body);
  const ledger = (async () => {
    const shards = await resolveShards(env, bodies);
    return { shards, appliedOn: await appliedBefore(env, shards, bodies) };
  })();
  // Heard below, after the items are prepared; this only keeps an early failure from being "unhandled".
  ledger.catch(() => {});
  await yieldToIo();

  // 2. Prepare every item; a transient failure fails only its message, and only that item is
  // dead-lettered once the message is on its last attempt (the rest is stored all along).
  const failedItems: { msg: Message<unknown>; item: IngestItem; reason: string }[] = [];
  const budget = itemBudgetMs(env);
  const prepared: { msg: Message<unknown>; messageId: string; p: Prepared }[] = [];
  const poisoned: { msg: Message<unknown>; item: IngestItem; reason: string }[] = [];
  await Promise.all(
    live.flatMap(({ msg, body }) =>
      body.items.map(async (item) => {
        metrics.items++;
        try {
          prepared.push({
            msg,
            messageId: shareKey(body.id, item.projectId),
            p: await prepareItem(item, env, budget),
          });
        } catch (err) {
          if (err instanceof PoisonItemError) poisoned.push({ msg, item, reason: err.message });
          else {
            console.warn(
              JSON.stringify({ msg: "item failed, will retry", eventId: item.eventId, error: String(err) }),
            );
            failedItems.push({ msg, item, reason: `failed on every attempt: ${String(err)}` });
          }
        }
      }),
    ),
  );
  let shards: ShardMap;
  let appliedOn: (shareKey: string) => boolean;
  try {
    ({ shards, appliedOn } = await ledger);
  } catch (err) {
    console.error(JSON.stringify({ msg: "ledger look-up failed, retrying", error: String(err) }));
    for (const msg of [...live.map((l) => l.msg), ...copies.keys()]) {
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
      metrics.retried++;
    }
    return metrics;
  }
  // A message with a transiently failing item is retried whole, and applied (ledger row, aggregates,
  // storage) only once, when every item of it is stored or dead-lettered; on its last attempt, only
  // the items still failing are dead-lettered and the rest of the message is stored.
  const maxRetries = Number((env as { MAX_RETRIES?: unknown }).MAX_RETRIES) || 5;
  // A failing item never retries its message once the ledger of its project's shard holds that
  // message: it was dead-lettered when the message was applied there. (A replayed dead letter
  // marked `counted` is not looked up: a failing item of it retries and is dead-lettered again,
  // marked too, like any other's, since it is replayed because something of it was not stored.)
  const bodyOf = new Map(live.map(({ msg, body }) => [msg, body]));
  const appliedHere = (msg: Message<unknown>, item: IngestItem) =>
    appliedOn(shareKey(bodyOf.get(msg)!.id, item.projectId));
  const retrying = new Set(
    failedItems
      .filter(({ msg, item }) => msg.attempts < maxRetries && !appliedHere(msg, item))
      .map((f) => f.msg),
  );
  for (const f of failedItems.filter(({ msg }) => !retrying.has(msg))) poisoned.push(f);
  // Dead letters only for items applied now for the first time: a retrying message's poison items
  // wait for the attempt that applies it, and an applied one's were sent when it was.
  const letters = poisoned.filter(({ msg, item }) => !retrying.has(msg) && !appliedHere(msg, item));
  const ok = prepared.filter(({ msg }) => !retrying.has(msg));
  // Every project's share of a message applied by this batch that its shard's ledger does not hold
  // yet gets an entry there, with the edge's drop counts the message carries for that project.
  const applied = new Map<number, D1WriteInput["messages"]>();
  for (const { msg, body } of live) {
    // A replayed dead letter marked `counted` was counted before it was dead-lettered: no ledger
    // entry, so no aggregate of it counts again.
    if (retrying.has(msg) || body.counted === true) continue;
    for (const pid of projectsOf(body)) {
      const key = shareKey(body.id, pid);
      if (appliedOn(key)) continue;
      const s = shards.shardOf(pid);
      const outcomes = ((body.outcomes ?? []) as OutcomeRecord[]).filter(
        (o) => String(Number(o.projectId)) === pid,
      );
      (applied.get(s) ?? applied.set(s, []).get(s)!).push({ id: key, outcomes });
    }
  }

  try {
    // 3. One segment object for the whole batch. Its records carry each item as received, never its
    // group, so they are packed before the group redirects are read and the PUT starts at once.
    const items = ok.map(({ p }) => p);
    let segment: { key: string; bytes: number; refs: StoredRef[] } | null = null;
    let put: Promise<void> = Promise.resolve();
    let putFailed = false;
    if (ok.length > 0) {
      const { body, refs, directory } = packSegment(
        ok.map(({ p }) => p.item),
        (i) => {
          const { item, payload } = ok[i]!.p;
          return {
            header: {
              eventId: item.eventId,
              projectId: item.projectId,
              protocol: item.protocol,
              itemType: item.itemType,
              category: item.category,
              receivedAt: item.receivedAt,
              client: item.client,
              meta: item.meta,
              policy: item.policy,
            },
            payload,
          };
        },
      );
      const key = segmentKey(now, batchId);
      segment = {
        key,
        bytes: body.byteLength,
        refs: ok.map(({ p, messageId }, i) => ({ prepared: p, messageId, segmentKey: key, ...refs[i]! })),
      };
      put = env.BLOBS.put(key, body, {
        customMetadata: { batchId, events: String(ok.length), [DIRECTORY_METADATA]: directory },
      }).then(
        () => {
          metrics.r2Writes++;
        },
        (err) => {
          putFailed = true;
          throw err;
        },
      );
    }
    const refs = segment?.refs ?? [];
    // The segment's one row, on its home shard, before any shard's transaction (writeSegmentRow).
    const home = segment ? segmentHome(segment.key, shardDbs(env).length) : 0;
    const rowWritten = segment ? writeSegmentRow(shardDb(env, home), segment, now) : Promise.resolve(0);

    // While the PUT is in flight, everything that only reads (merged groups and feedback:
    // group-workflow.ts; the alert rules of the control database, read once per batch) and the
    // poison items' dead letters. None of it needs the segment stored, and if the PUT fails the
    // batch retries whole: a dead letter sent twice is the same one-item message (poisonMessageId),
    // applied once on replay, as when the D1 batch fails after it today.
    const grouped = (async () => {
      await resolveFeedbackGroups(env, items);
      // Redirects and users sketches live with the groups, on each project's metadata shard.
      await Promise.all(
        [...byShard(items, (p) => shards.shardOf(p.item.projectId))].map(([s, list]) =>
          applyRedirects(shardDb(env, s), list),
        ),
      );
    })();
    const rulesRead =
      env.Q_ALERTS && refs.length > 0
        ? loadRules(env.DB, [...new Set(refs.map((r) => Number(r.prepared.item.projectId)))])
        : Promise.resolve([]);
    // 4. Poison items to the dead letters before the D1 batch records their message as applied:
    // a failure here retries the message with nothing counted and every claim check in place.
    const lettered = (async () => {
      for (const { msg, item, reason } of letters) {
        const counted = bodyOf.get(msg)!.counted === true ? { counted: true } : {};
        await deadLetter(env, batch.queue, reason, {
          v: 1,
          id: poisonMessageId(item),
          items: [item],
          ...counted,
        });
        metrics.deadLettered++;
      }
    })();

    // 5. One D1 transaction per metadata shard once the segment row is in (ledger, aggregates,
    // and the per-minute counts alert rules need: alerts-hook.ts, with the groups of that shard).
    // It runs beside the PUT unless an item of the batch gets a pointer row (segment-contents.ts).
    // Why that is safe: if D1 commits and the PUT fails, the batch retries; the ledger then holds
    // its messages, and such messages are stored again in a new segment and their search documents
    // sent (above), never counted again. Until then what D1 holds names the lost object only in the
    // segments row, which retention and the orphan sweep alone read (deleting an absent key is a
    // no-op) and which never makes an event readable: events are found through their search
    // documents, sent only once both writes are done. A pointer row would make one readable (and
    // its insert keeps the first pointer), so such a batch writes D1 only after the PUT, as before.
    const beside = !refs.some(({ prepared: p }) => needsPointerRow(p));
    const refsByShard = byShard(refs, (r) => shards.shardOf(r.prepared.item.projectId));
    let bodies: string[] = [];
    const committed = (async () => {
      await settleAll([grouped, rulesRead, lettered, rowWritten]);
      // Counted even if the PUT failed below: D1 wrote (and bills) the row all the same.
      const rowRows = await rowWritten;
      metrics.d1RowsWritten += rowRows;
      const rules = await rulesRead;
      const plans = await Promise.all(
        [...refsByShard].map(
          async ([s, shardRefs]) =>
            [
              s,
              await planAlerts(
                { rules, groups: shardDb(env, s), queue: env.Q_ALERTS },
                ledgerScope(
                  batchId,
                  (applied.get(s) ?? []).map((m) => m.id),
                ),
                shardRefs,
                now,
              ),
            ] as const,
        ),
      );
      if (!beside) await put;
      // The PUT already failed: the batch retries anyway, so D1 is left as it was.
      if (putFailed) return plans;
      const written = writeShards(env, {
        batchId,
        now,
        segment,
        refsByShard,
        messages: applied,
        extra: new Map(plans.map(([s, plan]) => [s, plan.statements])),
      });
      // Awaited below, after the index bodies are built; this only keeps a failure that comes
      // first from being reported as unhandled (the await still throws it, and the batch retries).
      written.catch(() => {});
      // 6. Search documents, the event index (idempotent by event id, so they are sent even for
      // redelivered events: a first delivery whose index send failed gets them now). Built from the
      // redirected groups while the writes are in flight, sent once both are done; one turn of the
      // event loop first, so that the D1 request leaves before this CPU work, not after it.
      await yieldToIo();
      bodies = indexBodies(
        refs
          .filter(({ prepared: p }) => p.event)
          .map(({ prepared: p, segmentKey: key, offset, length }) =>
            toSearchDoc(p.event!, p.grouping?.groupId ?? null, p.grouping?.fingerprint ?? null, {
              key,
              offset,
              length,
            }),
          ),
      );
      const d1 = await written;
      d1.perShard[home] = (d1.perShard[home] ?? 0) + rowRows;
      metrics.d1RowsWritten += d1.rowsWritten;
      metrics.d1RowsByShard = d1.perShard;
      metrics.groupFolds = d1.folds;
      return plans;
    })();
    await settleAll([put, committed]);
    const plans = await committed;

    // Then the search documents and the alerts (decided from what the batch committed), each to
    // its own queue. They are independent: if one send fails the batch retries, the index upserts
    // by event id, and an alert already sent holds its cooldown claim, so it is not sent twice.
    await settleAll([
      sendIndexBodies(env, bodies).then((n) => {
        metrics.indexMessages = n;
      }),
      ...plans.map(([, plan]) => plan.send()),
    ]);
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

  // 7. Last, once everything is stored and dead-lettered: claim-check blobs held the payload before
  // scrubbing, and the segment now has the clean copy. A failure here loses nothing (the orphan
  // sweep collects what is left), so it does not retry the batch.
  const claims = ok
    .map(({ p }) => p.item.blobKey)
    .filter((k): k is string => !!k && k.startsWith("claims/"))
    .concat(duplicateClaims);
  if (claims.length > 0)
    await env.BLOBS.delete(claims).catch((err) =>
      console.warn(JSON.stringify({ msg: "claim checks not deleted", error: String(err) })),
    );

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
