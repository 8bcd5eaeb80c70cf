// The messages that flow between stages. The edge packs accepted items (and counts of what it
// dropped) into `IngestBatch` bodies on the per-kind queues; the processor sends `IndexBatch`
// bodies to the index queue. Bodies are JSON (the default queue content type).

import type { Category, ClientInfo, Protocol } from "./event";

/** Which queue family an item travels on: each scales (and can be sharded) on its own. */
export type QueueKind = "errors" | "rum" | "telemetry";

export interface IngestItem {
  protocol: Protocol;
  category: Category;
  /** Raygun: "entry" | "rum"; Sentry: the envelope item type ("event", "transaction", ...) or "store". */
  itemType: string;
  projectId: string;
  eventId: string;
  /** Milliseconds since the epoch at the edge. */
  receivedAt: number;
  client: ClientInfo;
  /** The payload exactly as received (UTF-8 text), when it fits in a queue message. */
  payload?: string;
  /** Claim check: the R2 key holding the payload bytes when it was too large to travel inline. */
  blobKey?: string;
  /** Size of the payload in bytes (inline or claim-checked). */
  size: number;
  /** Protocol metadata the processor needs (Sentry: envelope headers, item headers; Raygun: nothing). */
  meta?: Record<string, unknown>;
  /** The payload is binary (attachments, replays): it is always claim-checked, never inlined. */
  binary?: boolean;
  /** The project's processing settings at the edge (read from its cache, so the processor needs no look-up). */
  policy?: ItemPolicy;
}

export interface ItemPolicy {
  scrubbing: { defaults: boolean; scrubIpAddresses: boolean; sensitiveFields: string[] };
  retentionDays: number;
}

export type OutcomeKind =
  | "accepted"
  | "filtered"
  | "sampled"
  | "rate_limited"
  | "invalid"
  | "too_large"
  | "client_discard";

/** A count of items that ended in one outcome; aggregated per minute in D1 by the processor. */
export interface OutcomeRecord {
  projectId: string;
  category: Category;
  outcome: OutcomeKind;
  reason: string;
  quantity: number;
  /** Milliseconds since the epoch (floored to the minute when stored). */
  at: number;
}

export interface IngestBatch {
  v: 1;
  /** Unique per message; the ledger key that makes the edge's outcome counts idempotent. */
  id: string;
  items: IngestItem[];
  outcomes?: OutcomeRecord[];
  /**
   * Set by the dead-letter consumer on a project's share of a message whose counts were applied
   * before the queue gave up on it (its ledger entry is pruned after the queue's retention, the dead
   * letter is kept for the project's): a replay stores and indexes it again, idempotently, and
   * counts nothing.
   */
  counted?: true;
}

/**
 * One search document per stored event; `_id` in Elasticsearch, rowid key in the FTS fallback. The
 * search backend is the per-event index: the document carries everything the console needs to list
 * the event and the pointer to its raw record in an R2 segment (no D1 row per event).
 */
export interface SearchDoc {
  eventId: string;
  projectId: string;
  groupId: string | null;
  fingerprint: string | null;
  category: Category;
  occurredAt: string;
  receivedAt: string;
  type: string | null;
  message: string;
  level: string;
  release: string | null;
  environment: string | null;
  user: string | null;
  platform: string | null;
  /** Flattened frames, one per line: "module.function (file)". */
  stack: string;
  /** Free-form tags; indexed as "key:value" strings to avoid mapping explosion. */
  tags: Record<string, string>;
  /** The R2 segment holding the event's record, and the record's byte range (range reads). */
  segmentKey?: string | null;
  segmentOffset?: number | null;
  segmentLength?: number | null;
}

export interface IndexBatch {
  v: 1;
  docs: SearchDoc[];
}

/** What a dead-lettered message carries, so the DLQ consumer can record why and replay it later. */
export interface DeadLetterNote {
  queue: string;
  reason: string;
}
