// Payload → canonical event, for every item type that has one. The processor runs it on the
// scrubbed payload before storing; the console runs it again on the stored payload when an event
// is opened (records keep only the payload, not a second copy of the event), so both always agree.

import type { CanonicalEvent, ClientInfo } from "./event";
import type { ItemPolicy } from "./queue-message";
import { normalizeRaygunReport } from "./raygun/normalize";
import { normalizeSentryEvent } from "./sentry/normalize-event";
import { DEFAULT_SETTINGS } from "./settings";
import { applySymbolication } from "./sourcemaps/symbolicate";

/** What normalization needs to know about an item besides its payload. */
export interface NormalizeSubject {
  protocol: string;
  itemType: string;
  projectId: string;
  eventId: string;
  receivedAt: number;
  client: ClientInfo;
  meta?: Record<string, unknown>;
  policy?: ItemPolicy;
}

export const DEFAULT_POLICY: ItemPolicy = {
  scrubbing: DEFAULT_SETTINGS.scrubbing,
  retentionDays: DEFAULT_SETTINGS.retentionDays,
};

/** Whether this item type has a canonical event (errors and transactions do; RUM, sessions... don't). */
export function hasCanonicalEvent(protocol: string, itemType: string): boolean {
  return (
    (protocol === "raygun" && itemType === "entry") ||
    (protocol === "sentry" && (itemType === "event" || itemType === "transaction"))
  );
}

/** Normalizes an already-parsed (and scrubbed) payload; throws ClientError for a non-object Sentry event. */
export function normalizeParsed(subject: NormalizeSubject, value: unknown): CanonicalEvent | null {
  const policy = subject.policy ?? DEFAULT_POLICY;
  let event: CanonicalEvent;
  if (subject.protocol === "raygun" && subject.itemType === "entry") {
    // The retention bounds how old occurredOn may be (the same clamp as Sentry's, below).
    event = normalizeRaygunReport(value, { ...subject, retentionDays: policy.retentionDays });
  } else if (
    subject.protocol === "sentry" &&
    (subject.itemType === "event" || subject.itemType === "transaction")
  ) {
    const envelope = (subject.meta?.envelope ?? {}) as { sent_at?: unknown };
    event = normalizeSentryEvent(value, {
      ...subject,
      sentAt: typeof envelope.sent_at === "string" ? envelope.sent_at : null,
      retentionDays: policy.retentionDays,
      category: subject.itemType === "transaction" ? "transaction" : "error",
    });
  } else {
    return null;
  }
  // Frames the processor mapped to their original source (shared/sourcemaps) are rebuilt the same.
  if (subject.meta?.symbolication) applySymbolication(event, subject.meta.symbolication);
  // The payload was scrubbed already, so the event built from it is clean; only the client IP
  // (from the HTTP request, not the payload) is left to remove when the project asks for it.
  if (policy.scrubbing.scrubIpAddresses && event.client.ip !== null) {
    event.client = { ...event.client, ip: null };
    if (event.user?.ipAddress) event.user = { ...event.user, ipAddress: null };
  }
  return event;
}

/** Normalizes a stored payload (text); null when the item type has no canonical event. */
export function normalizeStored(subject: NormalizeSubject, text: string): CanonicalEvent | null {
  if (!hasCanonicalEvent(subject.protocol, subject.itemType)) return null;
  return normalizeParsed(subject, JSON.parse(text));
}
