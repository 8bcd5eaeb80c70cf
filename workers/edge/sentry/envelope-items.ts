// Envelope items → ingest items. JSON items travel inline (claim-checked by the enqueue module when
// large); binary items (attachments, replay recordings, unknown non-UTF-8 payloads) travel as a
// claim check: their bytes are written to R2 only once admission has accepted them
// (storeAdmittedBinaries), so a filtered, limited or invalid envelope leaves nothing behind.
// Unknown item types and header keys are kept, never refused.

import type { ClientInfo } from "../../../shared/event";
import { badRequest } from "../../../shared/http/errors";
import { newEventId, normalizeUuid } from "../../../shared/ids";
import type { IngestItem, ItemPolicy, QueueKind } from "../../../shared/queue-message";
import type { Envelope, EnvelopeItem } from "../../../shared/sentry/envelope";
import { itemJson, sluiceCategory } from "../../../shared/sentry/envelope";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Items whose payload is JSON and parsed at the edge (for filters and sampling). */
const JSON_ITEMS = new Set([
  "event",
  "transaction",
  "session",
  "sessions",
  "client_report",
  "user_report",
  "feedback",
  "check_in",
]);

export interface EnvelopeCandidate {
  item: IngestItem;
  kind: QueueKind;
  parsed: unknown;
  sampleKey: string | null;
  /** A binary item's bytes and their R2 key, written only if the item is admitted. */
  binary?: { key: string; bytes: Uint8Array; contentType: string };
}

// The client's envelope and item headers ride on each queued item for the processor (`sent_at`
// shifts an event's clock; an attachment's `filename`, `content_type`, `attachment_type` name it).
// They are the client's own JSON, so they are bounded here: a message must stay under the queue's
// 128 KB whatever a key holder writes into a header, and an envelope's header is carried once,
// not copied into each of up to 1,000 items (a 100 KB header was 100 MB of queued messages).
/** UTF-8 bytes of header JSON carried whole; a larger header keeps only the fields read. */
export const MAX_ENVELOPE_META_BYTES = 8 * 1024;
export const MAX_ITEM_META_BYTES = 2 * 1024;
/** Longest string kept of a read field when the header was too large to carry whole. */
const MAX_FIELD_CHARS = 256;
const ENVELOPE_FIELDS = ["sent_at", "event_id"];
const ITEM_FIELDS = ["type", "filename", "content_type", "attachment_type", "item_count", "platform"];

const metaEncoder = new TextEncoder();

/** `headers` without `drop`, whole if its JSON fits `maxBytes`, else only `fields` (strings cut). */
function boundedMeta(
  headers: Record<string, unknown>,
  drop: string,
  maxBytes: number,
  fields: string[],
): Record<string, unknown> {
  const { [drop]: _dropped, ...rest } = headers;
  // A string's UTF-8 is at most 3 bytes per UTF-16 unit: most headers are measured by length alone.
  const json = JSON.stringify(rest);
  if (json.length * 3 <= maxBytes || metaEncoder.encode(json).byteLength <= maxBytes) return rest;
  const kept: Record<string, unknown> = { truncated: true };
  for (const field of fields) {
    const v = rest[field];
    if (typeof v === "string") kept[field] = v.slice(0, MAX_FIELD_CHARS);
    else if (typeof v === "number" || typeof v === "boolean") kept[field] = v;
  }
  return kept;
}

function envelopeMeta(envelope: Envelope): Record<string, unknown> {
  return boundedMeta(envelope.headers, "dsn", MAX_ENVELOPE_META_BYTES, ENVELOPE_FIELDS);
}

function headerMeta(item: EnvelopeItem): Record<string, unknown> {
  return boundedMeta(item.headers, "length", MAX_ITEM_META_BYTES, ITEM_FIELDS);
}

export interface ItemsContext {
  projectId: string;
  client: ClientInfo;
  receivedAt: number;
  policy: ItemPolicy;
}

/** The event id of the envelope: header wins over payload (Relay), else a new one. */
export function envelopeEventId(envelope: Envelope): string | null {
  const fromHeader = normalizeUuid(envelope.headers.event_id);
  if (fromHeader) return fromHeader;
  for (const item of envelope.items) {
    if (item.headers.type === "event" || item.headers.type === "transaction") {
      const payload = itemJson(item) as { event_id?: unknown } | null;
      const id = normalizeUuid(payload?.event_id);
      if (id) return id;
    }
  }
  return null;
}

export function toCandidates(envelope: Envelope, ctx: ItemsContext): EnvelopeCandidate[] {
  const envMeta = envelopeMeta(envelope);
  const eventId = envelopeEventId(envelope);
  const trace = envelope.headers.trace as { trace_id?: unknown } | undefined;
  const traceId = typeof trace?.trace_id === "string" ? trace.trace_id : null;
  // The envelope header rides on the first event-like item (the processor reads its `sent_at` there);
  // any other event-like item gets `sent_at` alone.
  const sentAt = { sent_at: envMeta.sent_at };
  let envelopeCarried = false;
  const out: EnvelopeCandidate[] = [];
  let index = 0;
  for (const raw of envelope.items) {
    const type = raw.headers.type;
    const category = sluiceCategory(type);
    const isEventLike = type === "event" || type === "transaction";
    // Event-like items carry the envelope's event id; every other item gets its own.
    const id = isEventLike && eventId ? eventId : newEventId(ctx.receivedAt);
    const meta: Record<string, unknown> = {
      envelope: isEventLike ? (envelopeCarried ? sentAt : envMeta) : undefined,
      item: headerMeta(raw),
      eventId: eventId ?? undefined,
    };
    if (isEventLike) envelopeCarried = true;
    const base = {
      protocol: "sentry" as const,
      category,
      itemType: type,
      projectId: ctx.projectId,
      eventId: id,
      receivedAt: ctx.receivedAt,
      client: ctx.client,
      size: raw.payload.byteLength,
      meta,
      policy: ctx.policy,
    };
    let parsed: unknown = null;
    let item: IngestItem;
    let binary: EnvelopeCandidate["binary"];
    if (JSON_ITEMS.has(type)) {
      parsed = itemJson(raw);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw badRequest("invalid envelope", [`${type} item payload must be a JSON object`]);
      }
      item = { ...base, payload: utf8.decode(raw.payload) };
    } else {
      let text: string | null = null;
      if (type !== "attachment" && type !== "replay_recording" && type !== "replay_video") {
        try {
          text = utf8.decode(raw.payload);
        } catch {
          text = null;
        }
      }
      if (text !== null) item = { ...base, payload: text };
      else {
        // Binary payloads get their own R2 object (attachments stay separate from segments).
        item = { ...base, binary: true };
        binary = {
          key: `attachments/${ctx.projectId}/${eventId ?? id}/${index}-${id}`,
          bytes: raw.payload,
          contentType: String(raw.headers.content_type ?? "application/octet-stream"),
        };
      }
    }
    const kind: QueueKind = type === "event" ? "errors" : "telemetry";
    const sampleKey =
      category === "transaction" || category === "span" || category === "profile" ? traceId : null;
    out.push(binary ? { item, kind, parsed, sampleKey, binary } : { item, kind, parsed, sampleKey });
    index++;
  }
  return out;
}

/**
 * Writes the bytes of the admitted binary items to R2 and points each item at its object. Runs
 * after admission and before enqueueing: nothing is stored for a dropped item, and nothing is
 * queued before its bytes are durable.
 */
export async function storeAdmittedBinaries(
  candidates: readonly EnvelopeCandidate[],
  accepted: readonly IngestItem[],
  blobs: R2Bucket,
): Promise<void> {
  const admitted = new Set(accepted);
  await Promise.all(
    candidates
      .filter((c) => c.binary && admitted.has(c.item))
      .map(async (c) => {
        const { key, bytes, contentType } = c.binary!;
        await blobs.put(key, bytes, { httpMetadata: { contentType } });
        c.item.blobKey = key;
      }),
  );
}
