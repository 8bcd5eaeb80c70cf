// Relay's default size limits and its per-envelope size/count check (`utils/sizes.rs`): an envelope
// breaking any of them is refused whole with 413, which SDKs drop without retrying.

import { badRequest, tooLarge } from "../http/errors";
import type { Envelope, EnvelopeItem } from "./envelope";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Sluice's cap on a whole (decompressed) envelope. Relay allows 200 MiB, but a Worker's request
 * body is limited by plan (100 MB on Free/Pro) and the edge buffers the body in a 128 MB isolate,
 * so a smaller cap keeps a single request from exhausting memory. Everything below is capped to it.
 */
export const MAX_ENVELOPE_BYTES = 20 * MiB;

/**
 * Items per envelope (SDKs send a handful; client-side buffers cap at 30–100). Relay bounds bytes,
 * not items; every item costs Sluice a stored record and a row, so a 500 KB envelope of 20,000
 * empty items is refused instead of amplified, and the parser stops at this count (a 20 MB body of
 * tiny items would otherwise be ~1.5 M parsed items before any check).
 */
export const MAX_ITEMS_PER_ENVELOPE = 1000;

/** Relay's `Limits::default` (relay-config `config.rs`). */
export const RELAY_LIMITS = {
  maxEnvelopeSize: 200 * MiB,
  maxEventSize: 1 * MiB,
  maxAttachmentSize: 200 * MiB,
  maxAttachmentsSize: 200 * MiB,
  maxAttachmentCount: 30,
  maxSessionCount: 100,
  maxSessionsSize: 10 * MiB,
  maxClientReportsCount: 100,
  maxClientReportsSize: 100 * KiB,
  maxCheckInSize: 100 * KiB,
  maxProfileSize: 50 * MiB,
  maxReplayCompressedSize: 10 * MiB,
  maxReplayUncompressedSize: 100 * MiB,
  maxSpanSize: 10 * MiB,
  maxLogSize: 2 * MiB,
  maxTraceMetricSize: 1 * MiB,
  maxContainerSize: 12 * MiB,
  maxStandaloneSpanCount: 25,
  maxStatsdSize: 1 * MiB,
  maxMetricBucketsSize: 1 * MiB,
} as const;

export type SizeLimits = { -readonly [K in keyof typeof RELAY_LIMITS]: number };

/** Relay's defaults with every byte limit capped at `MAX_ENVELOPE_BYTES`. */
export const SLUICE_LIMITS: SizeLimits = Object.fromEntries(
  Object.entries(RELAY_LIMITS).map(([k, v]) => [
    k,
    k.endsWith("Count") ? v : Math.min(v, MAX_ENVELOPE_BYTES),
  ]),
) as SizeLimits;

interface Budget {
  itemSize: number;
  count: number;
  size: number;
}

/** Container items (span v2, log, trace metric) carry several records under one header. */
export function isContainer(item: EnvelopeItem): boolean {
  const ct = item.headers.content_type;
  return typeof ct === "string" && /^application\/vnd\.sentry\.items\.[\w.-]+\+json$/.test(ct);
}

/**
 * The Relay discard item type of the first item over a limit (e.g. "event",
 * "attachment:attachment"), or null when the envelope fits. Unknown item types are not limited.
 */
export function findLimitViolation(envelope: Envelope, limits: SizeLimits = SLUICE_LIMITS): string | null {
  const L = limits;
  const budget = (itemSize: number, count: number, size: number): Budget => ({ itemSize, count, size });
  // One shared budget for everything that becomes an event: at most one per envelope.
  const event = budget(L.maxEventSize, 1, L.maxEventSize);
  const attachment = budget(L.maxAttachmentSize, L.maxAttachmentCount, L.maxAttachmentsSize);
  const budgets: Record<string, Budget> = {
    event,
    transaction: event,
    security: event,
    raw_security: event,
    replay_event: event,
    feedback: event,
    form_data: event,
    attachment,
    unreal_report: attachment,
    user_report: attachment,
    replay_recording: budget(L.maxReplayCompressedSize, 1, L.maxReplayCompressedSize),
    replay_video: budget(L.maxReplayCompressedSize, 1, L.maxReplayCompressedSize),
    client_report: budget(L.maxClientReportsSize, L.maxClientReportsCount, L.maxClientReportsSize),
    check_in: budget(L.maxCheckInSize, 1, L.maxCheckInSize),
    statsd: budget(L.maxStatsdSize, 1, L.maxStatsdSize),
    metric_buckets: budget(L.maxMetricBucketsSize, 1, L.maxMetricBucketsSize),
    log: budget(L.maxLogSize, 1, L.maxContainerSize),
    trace_metric: budget(L.maxTraceMetricSize, 1, L.maxContainerSize),
  };
  budgets.session = budgets.sessions = budget(L.maxSessionsSize, L.maxSessionCount, L.maxSessionsSize);
  budgets.profile = budgets.profile_chunk = budget(L.maxProfileSize, 1, L.maxProfileSize);
  const spanContainer = budget(L.maxSpanSize, 1, L.maxContainerSize);
  const spanLegacy = budget(L.maxSpanSize, L.maxStandaloneSpanCount, L.maxContainerSize);

  for (const item of envelope.items) {
    const type = item.headers.type;
    const b =
      type === "span"
        ? isContainer(item)
          ? spanContainer
          : spanLegacy
        : Object.hasOwn(budgets, type)
          ? budgets[type]
          : undefined;
    if (!b) continue; // unknown items are forwarded as they are
    const len = item.payload.length;
    // Containers are checked on their average record size; records are re-checked after parsing.
    const count = typeof item.headers.item_count === "number" ? item.headers.item_count : 1;
    const size = isContainer(item) ? Math.floor(len / Math.max(1, count)) : len;
    b.count -= 1;
    b.size -= len;
    if (size > b.itemSize || b.count < 0 || b.size < 0) return discardItemType(item);
  }
  return null;
}

/**
 * Throws 413 `envelope exceeded size limits for type '<t>'` like Relay. Also refuses a body over
 * `MAX_ENVELOPE_BYTES` (the edge should already have stopped reading before that).
 */
export function checkEnvelopeLimits(envelope: Envelope, limits: SizeLimits = SLUICE_LIMITS): void {
  let total = 0;
  for (const item of envelope.items) total += item.payload.length;
  if (total > Math.min(limits.maxEnvelopeSize, MAX_ENVELOPE_BYTES)) {
    throw tooLarge("envelope exceeded size limits");
  }
  const violation = findLimitViolation(envelope, limits);
  if (violation) throw tooLarge(`envelope exceeded size limits for type '${violation}'`);
}

const ATTACHMENT_DISCARD_TYPES: Record<string, string> = {
  "event.attachment": "attachment",
  "event.minidump": "minidump",
  "event.applecrashreport": "apple_crash_report",
  "event.payload": "event_payload",
  "event.breadcrumbs": "breadcrumbs",
  "event.prosperodump": "prosperodump",
  "event.nnswitch_dying_message": "nnswitch_dying_message",
  "unreal.context": "unreal_context",
  "unreal.logs": "unreal_logs",
  "event.view_hierarchy": "view_hierarchy",
};

/** Relay's `DiscardItemType` name, used in the 413 message and in `too_large:<t>` outcomes. */
export function discardItemType(item: EnvelopeItem): string {
  const { type, attachment_type: at } = item.headers;
  if (type === "attachment") {
    return `attachment:${(typeof at === "string" && ATTACHMENT_DISCARD_TYPES[at]) || "attachment"}`;
  }
  if (type === "feedback") return "user_report_v2";
  return type;
}

/**
 * Structural rules of the envelope spec that are cheap to check at the edge: at most one
 * event-like item (event, transaction, feedback...), one container of each kind, one check-in,
 * and `item_count` on container items. Relay answers the count rules with 413 (they share the size
 * budget above); run this first to give the clearer 400 with the exact cause.
 */
export function checkEnvelopeConstraints(envelope: Envelope): void {
  const seen = new Map<string, number>();
  for (const item of envelope.items) {
    const type = item.headers.type;
    const key = EVENT_LIKE.has(type) ? "event" : type === "span" && !isContainer(item) ? "legacy_span" : type;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (isContainer(item) && item.headers.item_count === undefined) {
      throw badRequest("invalid envelope", [`container item '${type}' requires an item_count header`]);
    }
  }
  const eventLike = envelope.items.filter((i) => EVENT_LIKE.has(i.headers.type)).map((i) => i.headers.type);
  if (eventLike.length > 1) {
    throw badRequest("invalid envelope", [
      `at most one event-creating item per envelope, found ${eventLike.join(", ")}`,
    ]);
  }
  for (const type of SINGLETONS) {
    if ((seen.get(type) ?? 0) > 1) {
      throw badRequest("invalid envelope", [`at most one '${type}' item per envelope`]);
    }
  }
}

/** Items that share Relay's single event slot (`max_event_size`, count 1). */
const EVENT_LIKE = new Set([
  "event",
  "transaction",
  "security",
  "raw_security",
  "replay_event",
  "feedback",
  "form_data",
]);
const SINGLETONS = ["span", "log", "trace_metric", "check_in", "replay_recording", "replay_video", "profile"];
