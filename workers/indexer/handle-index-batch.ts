// The indexer's queue logic: IndexBatch messages (from the processor) → search backend → ack, retry
// with backoff, or dead-letter. One backend call per queue batch (one `_bulk` for Elasticsearch).
//
//   message ──parse──▶ invalid body ─────────────────────────▶ dead-letter, ack
//      │ docs
//      ▼ backend.index(all docs of the batch)
//   any doc "retry" ──▶ msg.retry(backoff)   (indexed docs are 409/no-ops on redelivery)
//   else dead docs  ──▶ dead-letter them (one DLQ message per reason), ack
//   else            ──▶ ack
//
// Dead docs are dead-lettered only on the delivery that retries nothing, so each is dead-lettered
// exactly once. An outage (every doc "retry") never loses documents: the message is retried until
// the consumer's max_retries, then the queue moves it to sluice-dlq whole. Ops: set max_retries high
// enough to ride out an Elasticsearch outage (each retry waits up to 300 s), and replay the DLQ
// (its bodies are IndexBatch messages) back to sluice-index to re-index after a longer one.

import type { IndexBatch, SearchDoc } from "../../shared/queue-message";
import type { SearchBackend } from "../../shared/search/backend";

export const INDEX_QUEUE = "sluice-index";

/** Sends one message to the dead-letter queue; throwing means "not sent" (the message is retried). */
export type DeadLetter = (body: unknown, reason: string) => Promise<void>;

export interface IndexBatchDeps {
  backend: SearchBackend;
  deadLetter: DeadLetter;
}

/** The DLQ message shape: the reason, and a body that replays as-is to the original queue. */
export function deadLetterMessage(body: unknown, reason: string) {
  return { v: 1 as const, deadLetter: { queue: INDEX_QUEUE, reason }, body };
}

/** Exponential backoff for a message's next attempt, capped at 5 minutes. */
export function retryDelay(attempts: number): number {
  return Math.min(2 ** attempts * 2, 300);
}

/**
 * Indexes every message of a queue batch and settles each message exactly once.
 *
 * @example
 * await handleIndexBatch(batch, { backend: createSearchBackend(env), deadLetter });
 */
export async function handleIndexBatch(batch: MessageBatch<unknown>, deps: IndexBatchDeps): Promise<void> {
  const valid: Array<{ msg: Message<unknown>; docs: SearchDoc[]; start: number }> = [];
  const allDocs: SearchDoc[] = [];
  for (const msg of batch.messages) {
    const parsed = parseIndexBatch(msg.body);
    if (typeof parsed === "string") {
      await settleDead(msg, [{ body: msg.body, reason: parsed }], deps.deadLetter);
      continue;
    }
    valid.push({ msg, docs: parsed.docs, start: allDocs.length });
    allDocs.push(...parsed.docs);
  }
  if (valid.length === 0) return;

  let results: Awaited<ReturnType<SearchBackend["index"]>>;
  try {
    results = allDocs.length > 0 ? await deps.backend.index(allDocs) : [];
  } catch (err) {
    // Only an outage lands here: backends report a doc they cannot index as dead, never by throwing
    // (prepareDoc and bulkChunks catch per doc), since a throw retries every message of the batch.
    console.warn("indexer: backend failed, retrying the batch", err);
    results = allDocs.map(() => "retry" as const);
  }

  for (const { msg, docs, start } of valid) {
    const mine = results.slice(start, start + docs.length);
    if (mine.some((r) => r === "retry")) {
      msg.retry({ delaySeconds: retryDelay(msg.attempts) });
      continue;
    }
    const byReason = new Map<string, SearchDoc[]>();
    mine.forEach((r, i) => {
      if (typeof r === "object") byReason.set(r.dead, [...(byReason.get(r.dead) ?? []), docs[i]!]);
    });
    const letters = [...byReason].map(([reason, dead]) => ({
      body: { v: 1, docs: dead } satisfies IndexBatch,
      reason,
    }));
    await settleDead(msg, letters, deps.deadLetter);
  }
}

/** Acks once every dead letter is sent; if the DLQ is unreachable the message is retried instead. */
async function settleDead(
  msg: Message<unknown>,
  letters: Array<{ body: unknown; reason: string }>,
  send: DeadLetter,
) {
  try {
    for (const l of letters) await send(l.body, l.reason);
    msg.ack();
  } catch (err) {
    console.error("indexer: dead-letter failed, retrying the message", err);
    msg.retry({ delaySeconds: retryDelay(msg.attempts) });
  }
}

/** Returns the batch, or why the body can never be indexed. Per-doc checks are the backend's. */
export function parseIndexBatch(body: unknown): IndexBatch | string {
  let value = body;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return "unparseable message body: not JSON";
    }
  }
  const b = value as Partial<IndexBatch> | null;
  if (!b || typeof b !== "object") return "unparseable message body: not an object";
  if (b.v !== 1) return `unparseable message body: unsupported version ${JSON.stringify(b.v)}`;
  if (!Array.isArray(b.docs)) return "unparseable message body: docs is not an array";
  return b as IndexBatch;
}
