// Deterministic sampling at the edge, after inbound filters and before quotas (Relay's dynamic
// sampling, simplified to one rate per category). The decision is a pure function of an id, so
// every item of one trace (or RUM session) gets the same verdict in every isolate and colo.

import type { Category } from "../event";
import type { ProjectSettings } from "../settings";

/**
 * Maps a string to [0, 1): FNV-1a 32-bit over the UTF-16 code units, then murmur3's fmix32 so
 * that ids differing only in their last characters still spread over the high bits.
 */
export function hashUnit(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * True when the item with this id is kept at `rate`; rate ≥ 1 always keeps, ≤ 0 never does.
 *
 * @example sampleKeep(traceId, 0.25)
 */
export function sampleKeep(id: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  return hashUnit(id) < rate;
}

export interface SampleSubject {
  category: Category;
  eventId: string;
  /** Sentry DSC / contexts.trace `trace_id`. */
  traceId?: string | null;
  /** Raygun RUM `sessionId`. */
  rumSessionId?: string | null;
  /** Sentry session `sid` (the `sessions` aggregate item has none; the event id stands in). */
  sessionId?: string | null;
}

export interface SampleDecision {
  keep: boolean;
  reason?: "sample_rate";
}

const KEEP: SampleDecision = { keep: true };
const DROP: SampleDecision = { keep: false, reason: "sample_rate" };

/**
 * Which rate and which id decide each category:
 * - error / default (message events): `sampleRates.error` by event id. NEVER by trace: an error
 *   inside an unsampled trace is still an error somebody needs to see (Relay keeps them too).
 * - transaction / span / profile: `sampleRates.transaction` by trace id, so a trace is kept or
 *   dropped whole (a profile follows its transaction).
 * - rum: `sampleRates.rum` by RUM session id (whole sessions, as Raygun bills per session).
 * - session: `sampleRates.session` by session id.
 * - everything else (attachments, client reports, check-ins, logs, replays, …) is not sampled here.
 *
 * @example
 * const d = sampleDecision({ category: "transaction", eventId, traceId }, settings);
 * if (!d.keep) outcomes.push(sampledOutcome(projectId, "transaction"));
 */
export function sampleDecision(subject: SampleSubject, settings: ProjectSettings): SampleDecision {
  const rates = settings.sampleRates;
  let rate: number;
  let id: string;
  switch (subject.category) {
    case "error":
    case "default":
      rate = rates.error;
      id = subject.eventId;
      break;
    case "transaction":
    case "span":
    case "profile":
      rate = rates.transaction;
      id = subject.traceId || subject.eventId;
      break;
    case "rum":
      rate = rates.rum;
      id = subject.rumSessionId || subject.eventId;
      break;
    case "session":
      rate = rates.session;
      id = subject.sessionId || subject.eventId;
      break;
    default:
      return KEEP;
  }
  return sampleKeep(id, rate) ? KEEP : DROP;
}
