// Admission: the per-item policy steps between "authenticated and valid" and "enqueued", in a
// fixed order like Relay's, each with one signature-alike module behind it:
//
//   1. inbound filters  (shared/policy/filters: IP, release, message, localhost, extensions, ...)
//   2. sampling         (shared/policy/sampling: deterministic per trace / RUM session / event)
//   3. quotas           (./quota: per-minute limit and spike protection, per project)
//
// Filters and sampling run before quotas, so dropped items never count against a quota (Raygun:
// "filtered errors are dropped before the process rate is counted"). Every item that does not pass
// becomes an outcome with a reason; nothing is dropped silently.

import type { Category, ClientInfo } from "../../shared/event";
import { filterInputFromRaygun, filterInputFromSentry } from "../../shared/policy/filter-input";
import { applyInboundFilters } from "../../shared/policy/filters";
import { filteredOutcome, rateLimitedOutcome, sampledOutcome } from "../../shared/policy/outcomes";
import type { QuotaReason } from "../../shared/policy/quota";
import { sampleDecision } from "../../shared/policy/sampling";
import type { IngestItem, OutcomeRecord } from "../../shared/queue-message";
import type { ProjectRecord } from "./project-cache";
import { checkQuota, type QuotaEnv } from "./quota";

export interface Candidate {
  item: IngestItem;
  /** The parsed payload, for filters that look inside it (release, message, frames). */
  parsed: unknown;
  /** Trace id (Sentry DSC) or RUM session id: sampled as a whole. */
  sampleKey?: string | null;
}

export interface RateLimit {
  retryAfterSeconds: number;
  /** Relay data categories the limit applies to (empty = all). */
  categories: string[];
  reason: string;
}

export interface Admission {
  accepted: IngestItem[];
  outcomes: OutcomeRecord[];
  /** Active limits, for Sentry's X-Sentry-Rate-Limits and Raygun's 429. */
  limits: RateLimit[];
}

/** Categories the inbound filters judge (payloads that describe an error, page or transaction). */
const FILTERED: ReadonlySet<Category> = new Set(["error", "default", "transaction", "rum"]);
/** Categories that count against the per-minute quota and spike protection ("events"). */
const QUOTA_COUNTED: ReadonlySet<Category> = new Set(["error", "default", "transaction", "rum"]);
/** Relay category names sent to Sentry SDKs while the quota is exhausted. */
const LIMITED_RELAY_CATEGORIES = ["default", "error", "transaction", "attachment"];

function sessionIdOf(parsed: unknown): string | null {
  const sid = (parsed as { sid?: unknown } | null)?.sid;
  return typeof sid === "string" ? sid : null;
}

/** Decides each candidate's fate. */
export async function admit(
  env: QuotaEnv,
  waitUntil: (p: Promise<unknown>) => void,
  project: ProjectRecord,
  client: ClientInfo,
  candidates: Candidate[],
): Promise<Admission> {
  const { settings } = project;
  const outcomes: OutcomeRecord[] = [];
  const survivors: Candidate[] = [];
  const now = Date.now();
  const filterClient = { ip: client.ip, userAgent: client.userAgent };
  for (const c of candidates) {
    const category = c.item.category;
    if (FILTERED.has(category) && c.parsed !== null) {
      const input =
        c.item.protocol === "raygun"
          ? filterInputFromRaygun(c.parsed, filterClient, category)
          : filterInputFromSentry(c.parsed, filterClient, category);
      const filter = applyInboundFilters(input, settings);
      if (filter) {
        outcomes.push(filteredOutcome(project.id, category, filter, { at: now }));
        continue;
      }
    }
    const sample = sampleDecision(
      {
        category,
        eventId: c.item.eventId,
        traceId: category === "rum" ? null : c.sampleKey,
        rumSessionId: category === "rum" ? c.sampleKey : null,
        sessionId: category === "session" ? sessionIdOf(c.parsed) : null,
      },
      settings,
    );
    if (!sample.keep) {
      outcomes.push(sampledOutcome(project.id, category, { at: now }));
      continue;
    }
    survivors.push(c);
  }

  const counted = survivors.filter((c) => QUOTA_COUNTED.has(c.item.category));
  const limits: RateLimit[] = [];
  let accepted = survivors;
  if (counted.length > 0) {
    const quota = await checkQuota(env, waitUntil, project, counted.length);
    if (quota.admitted < counted.length) {
      const over = new Set(counted.slice(quota.admitted));
      // An envelope's attachments belong to its event: they go when the event goes.
      const eventLimited = [...over].some(
        (c) => c.item.category === "error" || c.item.category === "default",
      );
      accepted = [];
      for (const c of survivors) {
        if (over.has(c) || (eventLimited && c.item.category === "attachment")) {
          const reason = (quota.limit?.reason ?? "rate_limit") as QuotaReason;
          outcomes.push(rateLimitedOutcome(project.id, c.item.category, reason, { at: now }));
        } else accepted.push(c);
      }
    }
    if (quota.limit) limits.push({ ...quota.limit, categories: LIMITED_RELAY_CATEGORIES });
  }
  return { accepted: accepted.map((c) => c.item), outcomes, limits };
}
