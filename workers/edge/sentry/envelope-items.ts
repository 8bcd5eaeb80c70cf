// Envelope items → ingest items. JSON items travel inline (claim-checked by the enqueue module when
// large); binary items (attachments, replay recordings, unknown non-UTF-8 payloads) are written to
// R2 here and travel as a claim check. Unknown item types and header keys are kept, never refused.

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
}

function envelopeMeta(envelope: Envelope): Record<string, unknown> {
  const { dsn: _dsn, ...rest } = envelope.headers;
  return rest;
}

function headerMeta(item: EnvelopeItem): Record<string, unknown> {
  const { length: _length, ...rest } = item.headers;
  return rest;
}

export interface ItemsContext {
  projectId: string;
  client: ClientInfo;
  receivedAt: number;
  policy: ItemPolicy;
  blobs: R2Bucket;
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

export async function toCandidates(envelope: Envelope, ctx: ItemsContext): Promise<EnvelopeCandidate[]> {
  const envMeta = envelopeMeta(envelope);
  const eventId = envelopeEventId(envelope);
  const trace = envelope.headers.trace as { trace_id?: unknown } | undefined;
  const traceId = typeof trace?.trace_id === "string" ? trace.trace_id : null;
  const out: EnvelopeCandidate[] = [];
  let index = 0;
  for (const raw of envelope.items) {
    const type = raw.headers.type;
    const category = sluiceCategory(type);
    const isEventLike = type === "event" || type === "transaction";
    // Event-like items carry the envelope's event id; every other item gets its own.
    const id = isEventLike && eventId ? eventId : newEventId(ctx.receivedAt);
    const meta: Record<string, unknown> = {
      envelope: envMeta,
      item: headerMeta(raw),
      eventId: eventId ?? undefined,
    };
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
        // Binary payloads go to R2 as their own object (attachments stay separate from segments).
        const blobKey = `attachments/${ctx.projectId}/${eventId ?? id}/${index}-${id}`;
        await ctx.blobs.put(blobKey, raw.payload, {
          httpMetadata: { contentType: String(raw.headers.content_type ?? "application/octet-stream") },
        });
        item = { ...base, blobKey, binary: true };
      }
    }
    const kind: QueueKind = type === "event" ? "errors" : "telemetry";
    const sampleKey =
      category === "transaction" || category === "span" || category === "profile" ? traceId : null;
    out.push({ item, kind, parsed, sampleKey });
    index++;
  }
  return out;
}
