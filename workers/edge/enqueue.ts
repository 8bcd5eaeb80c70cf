// The one module that sends to the ingest queues. It picks the shard (hash of project and event
// id, shard counts from QUEUE_SHARDS), claim-checks an item too large for a message into R2, packs
// several items into one message up to ~100 KB (queue limits and prices count messages, not
// reports), and group-commits: while other ingestion requests of this isolate are in flight, items
// wait up to GROUP_COMMIT_MS for theirs, and one `sendBatch` carries them all. Every request is
// answered only once the message holding its items is durably in the queue. Protocol code never
// touches a queue binding.

import { tooLarge } from "../../shared/http/errors";
import { randomHex, timeHex } from "../../shared/ids";
import { encodeMessage, type PackedItem, packItem } from "../../shared/queue-codec";
import type { IngestItem, OutcomeRecord, QueueKind } from "../../shared/queue-message";

/** Packed item size above which the payload goes to R2 first (queue messages max 128 KB). */
export const CLAIM_CHECK_BYTES = 100_000;
/** Target size of one packed message body. */
const MAX_MESSAGE_BYTES = 110_000;
/** sendBatch allows 256 KB per call (miniflare enforces 288,000 B); keep headroom. */
const MAX_SEND_BATCH_BYTES = 240_000;
const MAX_SEND_BATCH_COUNT = 100;
/** How long items wait for concurrent requests' items before their batch is sent. */
const GROUP_COMMIT_MS = 2;

export { utf8Length } from "../../shared/queue-codec";

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

// Message ids are unique (an isolate-random prefix and a counter, no per-call entropy) and start
// with the send time in hex: the processor's ledger prunes by id range once redelivery is over.
// (Drawn on first use: the Workers runtime forbids random values in global scope.)
let isolatePrefix = "";
let messageCounter = 0;
const nextMessageId = () => {
  if (isolatePrefix === "") isolatePrefix = randomHex(6);
  return `${timeHex(Date.now())}${isolatePrefix}${(messageCounter++).toString(36)}`;
};

// Ingestion requests in flight in this isolate: group commit only waits when there are others.
let activeRequests = 0;
export function requestStarted(): void {
  activeRequests++;
}
export function requestFinished(): void {
  activeRequests = Math.max(0, activeRequests - 1);
}

/**
 * Items waiting to be sent to one queue binding, and the outcome of that send. Requests learn the
 * outcome by polling `state` on their own timers: resolving another request's promise would be
 * cross-request I/O, which the Workers runtime forbids.
 */
interface Group {
  queue: Queue;
  open: PackedItem[];
  openBytes: number;
  openOutcomes: OutcomeRecord[];
  messages: { body: string; bytes: number }[];
  messageBytes: number;
  state: "collecting" | "sending" | "sent" | "failed";
  error?: unknown;
}

const collecting = new Map<string, Group>();
/** How long a request waits for another request's send before sending its items itself. */
const FOLLOWER_TIMEOUT_MS = 5000;

function closeOpen(g: Group): void {
  if (g.open.length === 0 && g.openOutcomes.length === 0) return;
  const body = encodeMessage(nextMessageId(), g.open, g.openOutcomes);
  const bytes = g.openBytes + 200 + g.openOutcomes.length * 150;
  g.messages.push({ body, bytes });
  g.messageBytes += bytes;
  g.open = [];
  g.openBytes = 0;
  g.openOutcomes = [];
}

/** Sends a group from the calling request's context and records the result for its followers. */
async function send(name: string, g: Group): Promise<void> {
  if (g.state !== "collecting") return;
  if (collecting.get(name) === g) collecting.delete(name);
  g.state = "sending";
  closeOpen(g);
  try {
    await sendBodies(g.queue, g.messages);
    g.state = "sent";
  } catch (err) {
    g.state = "failed";
    g.error = err;
    throw err;
  }
}

// Group commit sleeps a few times per request: the runtime's own timer (scheduler.wait) where
// there is one, not the Node-compatible setTimeout that nodejs_compat installs, which wraps every
// timer in a JS Timeout object. (Node, for the in-process bench and scripts, has no scheduler.)
const wait = (globalThis as { scheduler?: { wait?: (ms: number) => Promise<void> } }).scheduler?.wait;
const sleep: (ms: number) => Promise<void> = wait
  ? (ms) => wait.call(scheduler, ms)
  : (ms) => new Promise<void>((r) => setTimeout(r, ms));

async function followerWait(name: string, g: Group): Promise<void> {
  const deadline = Date.now() + FOLLOWER_TIMEOUT_MS;
  while (g.state === "collecting" || g.state === "sending") {
    if (Date.now() > deadline) {
      // The sending request vanished (e.g. its client disconnected before or mid-send). Send the
      // group ourselves: if it never left the leader, as the leader would have; if the leader's send
      // is in flight, the same message bodies again — same message ids — so should that send land
      // too, the processor's ledger drops the second copy instead of counting its items twice.
      if (g.state === "collecting") return send(name, g);
      await sendBodies(g.queue, g.messages);
      return;
    }
    await sleep(1);
  }
  if (g.state === "failed") throw g.error;
}

async function add(
  name: string,
  queue: Queue,
  items: PackedItem[],
  outcomes: OutcomeRecord[],
): Promise<void> {
  let g = collecting.get(name);
  if (!g) {
    g = {
      queue,
      open: [],
      openBytes: 0,
      openOutcomes: [],
      messages: [],
      messageBytes: 0,
      state: "collecting",
    };
    collecting.set(name, g);
  }
  for (const item of items) {
    if (g.open.length > 0 && g.openBytes + item.bytes > MAX_MESSAGE_BYTES) closeOpen(g);
    g.open.push(item);
    g.openBytes += item.bytes;
  }
  if (outcomes.length > 0) g.openOutcomes.push(...outcomes);
  const full =
    g.messages.length >= MAX_SEND_BATCH_COUNT - 1 ||
    g.messageBytes + g.openBytes >= MAX_SEND_BATCH_BYTES - MAX_MESSAGE_BYTES;
  // Alone (no other ingestion request in flight) or full: send now, from this request.
  if (full || activeRequests <= 1) return send(name, g);
  const leader =
    g.open.length === items.length && g.messages.length === 0 && g.openOutcomes.length === outcomes.length;
  if (leader) {
    // The first request of a group waits a moment for concurrent requests' items, then sends.
    await sleep(GROUP_COMMIT_MS);
    if (g.state === "collecting") return send(name, g);
  }
  return followerWait(name, g);
}

/** An item too large for a message, packed as a claim check instead. */
async function claimCheck(env: EnqueueEnv, item: IngestItem, payload: string): Promise<PackedItem> {
  // Claim check: the payload travels through R2 and the message carries only its key. The key is
  // unique per item, never derived from the client's event id alone: two envelopes reusing an
  // event id must not overwrite (or, once processed, delete) each other's payload.
  const blobKey = `claims/${item.projectId}/${item.eventId}/${nextMessageId()}`;
  await env.BLOBS.put(blobKey, payload);
  const { payload: _payload, ...rest } = item;
  return packItem({ ...rest, blobKey });
}

// Binding names per kind and shard, built once (a template and toUpperCase per item otherwise).
const bindingNames: Record<QueueKind, string[]> = { errors: [], rum: [], telemetry: [] };
function bindingName(kind: QueueKind, shard: number): string {
  const names = bindingNames[kind];
  return names[shard] ?? (names[shard] = `Q_${kind.toUpperCase()}_${shard}`);
}

function queueFor(env: EnqueueEnv, name: string): Queue {
  const queue = env[name] as Queue | undefined;
  if (!queue) throw new Error(`queue binding ${name} is not configured`);
  return queue;
}

/**
 * An item packed for its message, or claim-checked into R2 first when too large to travel inline.
 * An item whose header alone cannot fit a message is this request's 413, found before anything is
 * written or shared: in a group-committed batch it would fail every request of the batch.
 */
function pack(env: EnqueueEnv, item: IngestItem): PackedItem | Promise<PackedItem> {
  const packed = packItem(item);
  const payload = item.payload;
  if (packed.bytes <= CLAIM_CHECK_BYTES) return packed;
  if (packed.headerBytes > CLAIM_CHECK_BYTES) {
    throw tooLarge(
      `item headers of ${packed.headerBytes} bytes exceed the limit of ${CLAIM_CHECK_BYTES} bytes`,
    );
  }
  return payload === undefined ? packed : claimCheck(env, item, payload);
}

/**
 * Enqueues accepted items (and the outcomes of what this request dropped). Resolves once every
 * message holding them is durably in its queue; the caller answers the client only then.
 */
export async function enqueue(
  env: EnqueueEnv,
  kind: QueueKind,
  items: IngestItem[],
  outcomes: OutcomeRecord[] = [],
): Promise<void> {
  if (items.length === 0 && outcomes.length === 0) return;
  const shards = shardCount(env, kind);
  // Only an item too large to travel inline waits for R2 (no await, no promise, for the rest).
  if (shards === 1) {
    // One queue (the default): no routing to do, and one `add` for the request's items.
    const name = bindingName(kind, 0);
    const queue = queueFor(env, name);
    const list: PackedItem[] = [];
    for (const item of items) {
      const packed = pack(env, item);
      list.push(packed instanceof Promise ? await packed : packed);
    }
    return add(name, queue, list, outcomes);
  }
  const byBinding = new Map<string, PackedItem[]>();
  for (const item of items) {
    const name = bindingName(kind, hashString(`${item.projectId}:${item.eventId}`) % shards);
    let list = byBinding.get(name);
    if (!list) byBinding.set(name, (list = []));
    const packed = pack(env, item);
    list.push(packed instanceof Promise ? await packed : packed);
  }
  if (byBinding.size === 0) byBinding.set(bindingName(kind, 0), []);
  const sends: Promise<void>[] = [];
  let first = true;
  for (const [name, list] of byBinding) {
    sends.push(add(name, queueFor(env, name), list, first ? outcomes : []));
    first = false;
  }
  await Promise.all(sends);
}

async function sendBodies(queue: Queue, bodies: { body: string; bytes: number }[]): Promise<void> {
  if (bodies.length === 1) {
    await queue.send(bodies[0]!.body, { contentType: "text" });
    return;
  }
  // Normally one call; more only when a burst overflowed the 100-message / 256 KB limits.
  const calls: Promise<unknown>[] = [];
  let batch: MessageSendRequest[] = [];
  let bytes = 0;
  for (const { body, bytes: size } of bodies) {
    const n = size + 100;
    if (batch.length > 0 && (batch.length >= MAX_SEND_BATCH_COUNT || bytes + n > MAX_SEND_BATCH_BYTES)) {
      calls.push(queue.sendBatch(batch));
      batch = [];
      bytes = 0;
    }
    batch.push({ body, contentType: "text" });
    bytes += n;
  }
  if (batch.length > 0) calls.push(queue.sendBatch(batch));
  await Promise.all(calls);
}
