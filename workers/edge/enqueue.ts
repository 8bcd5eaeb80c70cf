// The one module that sends to the ingest queues. It picks the shard (hash of project and event
// id, shard counts from QUEUE_SHARDS), packs several items into one message up to ~100 KB (queue
// limits count messages, not reports), claim-checks an item too large for a message into R2, and
// sends with as few `sendBatch` calls as the 100-message / 256 KB limits allow. Protocol code never
// touches a queue binding.

import type { IngestItem, OutcomeRecord, QueueKind } from "../../shared/queue-message";

/** Serialized item size above which the payload goes to R2 first (queue messages max 128 KB). */
export const CLAIM_CHECK_BYTES = 100_000;
/** Target size of one packed message body. */
const MAX_MESSAGE_BYTES = 110_000;
/** sendBatch allows 256 KB per call (miniflare enforces 288,000 B); keep headroom. */
const MAX_SEND_BATCH_BYTES = 240_000;
const MAX_SEND_BATCH_COUNT = 100;

export interface EnqueueEnv {
  BLOBS: R2Bucket;
  QUEUE_SHARDS?: string;
  [binding: string]: unknown;
}

let shardConfigSource: string | undefined;
let shardConfig: Record<string, number> = {};

function shardCount(env: EnqueueEnv, kind: QueueKind): number {
  if (env.QUEUE_SHARDS !== shardConfigSource) {
    shardConfigSource = env.QUEUE_SHARDS;
    try {
      shardConfig = JSON.parse(env.QUEUE_SHARDS ?? "{}") as Record<string, number>;
    } catch {
      shardConfig = {};
    }
  }
  const n = shardConfig[kind];
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}

/** FNV-1a over the string: cheap, stable shard choice. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function queueFor(env: EnqueueEnv, kind: QueueKind, shard: number): Queue {
  const q = env[`Q_${kind.toUpperCase()}_${shard}`] as Queue | undefined;
  if (!q) throw new Error(`queue binding Q_${kind.toUpperCase()}_${shard} is not configured`);
  return q;
}

/** UTF-8 byte length without allocating. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff)
      i++; // surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

async function serializeItem(env: EnqueueEnv, item: IngestItem): Promise<string> {
  const json = JSON.stringify(item);
  if (utf8Length(json) <= CLAIM_CHECK_BYTES || item.payload === undefined) return json;
  // Claim check: the payload travels through R2 and the message carries only its key.
  const blobKey = `claims/${item.projectId}/${item.eventId}`;
  await env.BLOBS.put(blobKey, item.payload);
  const { payload: _payload, ...rest } = item;
  return JSON.stringify({ ...rest, blobKey });
}

function randomId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Enqueues accepted items (and the outcomes of what this request dropped). Resolves once every
 * message is durably in its queue; the caller answers the client only then.
 */
export async function enqueue(
  env: EnqueueEnv,
  kind: QueueKind,
  items: IngestItem[],
  outcomes: OutcomeRecord[] = [],
): Promise<void> {
  const shards = shardCount(env, kind);
  const byShard = new Map<number, string[]>();
  for (const item of items) {
    const shard = shards === 1 ? 0 : hashString(`${item.projectId}:${item.eventId}`) % shards;
    let list = byShard.get(shard);
    if (!list) byShard.set(shard, (list = []));
    list.push(await serializeItem(env, item));
  }
  if (byShard.size === 0 && outcomes.length > 0) byShard.set(0, []);
  const outcomesJson = outcomes.length > 0 ? JSON.stringify(outcomes) : null;

  const sends: Promise<void>[] = [];
  for (const [shard, serialized] of byShard) {
    const bodies: string[] = [];
    let parts: string[] = [];
    let size = 0;
    const flush = (withOutcomes: boolean) => {
      const extra = withOutcomes && outcomesJson ? `,"outcomes":${outcomesJson}` : "";
      bodies.push(`{"v":1,"id":"${randomId()}","items":[${parts.join(",")}]${extra}}`);
      parts = [];
      size = 0;
    };
    for (const s of serialized) {
      const n = utf8Length(s) + 1;
      if (parts.length > 0 && size + n > MAX_MESSAGE_BYTES) flush(false);
      parts.push(s);
      size += n;
    }
    flush(true);
    sends.push(sendBodies(queueFor(env, kind, shard), bodies));
  }
  await Promise.all(sends);
}

async function sendBodies(queue: Queue, bodies: string[]): Promise<void> {
  let batch: MessageSendRequest[] = [];
  let bytes = 0;
  const calls: Promise<unknown>[] = [];
  for (const body of bodies) {
    const n = utf8Length(body) + 100;
    if (batch.length > 0 && (batch.length >= MAX_SEND_BATCH_COUNT || bytes + n > MAX_SEND_BATCH_BYTES)) {
      calls.push(queue.sendBatch(batch));
      batch = [];
      bytes = 0;
    }
    batch.push({ body, contentType: "text" });
    bytes += n;
  }
  if (batch.length === 1) calls.push(queue.send(batch[0]!.body, { contentType: "text" }));
  else if (batch.length > 1) calls.push(queue.sendBatch(batch));
  await Promise.all(calls);
}
