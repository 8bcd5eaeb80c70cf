// Admission: the per-item policy steps between "authenticated and valid" and "enqueued", in a
// fixed order like Relay's, each with one signature-alike module behind it:
//
//   1. inbound filters  (shared/policy/filters: IP, release, message, localhost, extensions, ...)
//   2. sampling         (shared/policy/sampling: deterministic per trace / RUM session / event)
//   3. quotas           (./quota: events per minute and spike protection; sessions per minute;
//                        attachment bytes per minute; replays, profiles, spans, logs, check-ins
//                        and user reports per minute, each against the events' per-minute budget —
//                        Relay's categories, each counted apart)
//
// Filters and sampling run before quotas, so dropped items never count against a quota (Raygun:
// "filtered errors are dropped before the process rate is counted"). An envelope's attachments
// belong to its event: when the event is filtered, sampled or limited they go with it, with the same
// outcome. Every item that does not pass becomes an outcome with a reason; nothing is dropped
// silently. Storage (R2) is written only for what this returns as accepted.

import type { Category, ClientInfo } from "../../shared/event";
import { filterInputFromRaygun, filterInputFromSentry } from "../../shared/policy/filter-input";
import { applyInboundFilters } from "../../shared/policy/filters";
import { filteredOutcome, rateLimitedOutcome, sampledOutcome } from "../../shared/policy/outcomes";
import type { QuotaReason } from "../../shared/policy/quota";
import { sampleDecision } from "../../shared/policy/sampling";
import type { IngestItem, OutcomeRecord } from "../../shared/queue-message";
import type { ProjectRecord } from "./project-cache";
import {
  checkCategoryQuota,
  checkQuota,
  PER_MINUTE_CATEGORIES,
  type PerMinuteCategory,
  type QuotaEnv,
} from "./quota";

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
/** The Relay category SDKs back off for each of the per-minute categories (X-Sentry-Rate-Limits). */
const RELAY_CATEGORY: Record<PerMinuteCategory, string> = {
  replay: "replay",
  profile: "profile",
  span: "span",
  log: "log_item",
  check_in: "monitor",
  user_report: "feedback",
};
const PER_MINUTE: ReadonlySet<Category> = new Set(PER_MINUTE_CATEGORIES);
/** What a quota check of nothing answers (checkCategoryQuota's answer for a quantity of 0). */
const NO_QUOTA = { admitted: 0, limit: null };
/** Item types an envelope's attachments belong to: when the event goes, its files go with it. */
const OWNS_ATTACHMENTS: ReadonlySet<string> = new Set(["event", "transaction"]);

function sessionIdOf(parsed: unknown): string | null {
  const sid = (parsed as { sid?: unknown } | null)?.sid;
  return typeof sid === "string" ? sid : null;
}

/** Why an envelope's event was dropped: its attachments get the same outcome. */
type Drop = (category: Category, quantity?: number) => OutcomeRecord;

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
  let eventDrop: Drop | null = null;
  for (const c of candidates) {
    const category = c.item.category;
    let drop: Drop | null = null;
    if (FILTERED.has(category) && c.parsed !== null) {
      const input =
        c.item.protocol === "raygun"
          ? filterInputFromRaygun(c.parsed, filterClient, category)
          : filterInputFromSentry(c.parsed, filterClient, category);
      const filter = applyInboundFilters(input, settings);
      if (filter) drop = (cat, quantity) => filteredOutcome(project.id, cat, filter, { at: now, quantity });
    }
    if (!drop) {
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
      if (!sample.keep) drop = (cat, quantity) => sampledOutcome(project.id, cat, { at: now, quantity });
    }
    if (drop) {
      outcomes.push(drop(category, category === "attachment" ? c.item.size : undefined));
      if (c.item.protocol === "sentry" && OWNS_ATTACHMENTS.has(c.item.itemType)) eventDrop ??= drop;
    } else survivors.push(c);
  }

  const limits: RateLimit[] = [];
  const over = new Set<Candidate>();
  const limitedOutcome =
    (reason: string): Drop =>
    (cat, quantity) =>
      rateLimitedOutcome(project.id, cat, reason as QuotaReason, { at: now, quantity });

  // Events, sessions and the per-minute categories (replays, profiles, spans, logs, check-ins, user
  // reports) have quotas of their own: ask them all at once. The survivors are sorted into them in
  // one pass (a report is one survivor: no list per category is built for it).
  const counted: Candidate[] = [];
  const sessions: Candidate[] = [];
  const attachments: Candidate[] = [];
  let byPerMinute: Map<Category, Candidate[]> | null = null;
  for (const c of survivors) {
    const category = c.item.category;
    if (QUOTA_COUNTED.has(category)) counted.push(c);
    else if (category === "session") sessions.push(c);
    else if (category === "attachment") attachments.push(c);
    else if (PER_MINUTE.has(category)) {
      byPerMinute ??= new Map();
      const list = byPerMinute.get(category);
      if (list) list.push(c);
      else byPerMinute.set(category, [c]);
    }
  }
  const perMinute = byPerMinute
    ? PER_MINUTE_CATEGORIES.map((category) => [category, byPerMinute.get(category) ?? []] as const).filter(
        ([, list]) => list.length > 0,
      )
    : [];
  // Events alone (every Raygun request, most envelopes): one quota, no Promise.all around it.
  const [events, sessionQuota, ...perMinuteQuotas] =
    sessions.length === 0 && perMinute.length === 0
      ? [counted.length > 0 ? await checkQuota(env, waitUntil, project, counted.length) : null, NO_QUOTA]
      : await Promise.all([
          counted.length > 0 ? checkQuota(env, waitUntil, project, counted.length) : null,
          sessions.length > 0 ? checkCategoryQuota(env, project, "session", sessions.length) : NO_QUOTA,
          ...perMinute.map(([category, list]) => checkCategoryQuota(env, project, category, list.length)),
        ]);
  perMinute.forEach(([category, list], i) => {
    const quota = perMinuteQuotas[i]!;
    for (const c of list.slice(quota.admitted)) {
      over.add(c);
      outcomes.push(limitedOutcome(quota.limit?.reason ?? "rate_limit")(category));
    }
    if (quota.limit) limits.push({ ...quota.limit, categories: [RELAY_CATEGORY[category]] });
  });
  if (events && events.admitted < counted.length) {
    const drop = limitedOutcome(events.limit?.reason ?? "rate_limit");
    for (const c of counted.slice(events.admitted)) {
      over.add(c);
      outcomes.push(drop(c.item.category));
      if (c.item.protocol === "sentry" && OWNS_ATTACHMENTS.has(c.item.itemType)) eventDrop ??= drop;
    }
  }
  if (events?.limit) limits.push({ ...events.limit, categories: LIMITED_RELAY_CATEGORIES });
  for (const c of sessions.slice(sessionQuota.admitted)) {
    over.add(c);
    outcomes.push(limitedOutcome(sessionQuota.limit?.reason ?? "rate_limit")("session"));
  }
  if (sessionQuota.limit) limits.push({ ...sessionQuota.limit, categories: ["session"] });

  // Attachments: gone with their event, else counted in bytes against the attachment quota. Their
  // outcomes count bytes too, as Relay's do (quantity = the file's size).
  if (eventDrop) {
    for (const c of attachments) {
      over.add(c);
      outcomes.push(eventDrop("attachment", c.item.size));
    }
  } else if (attachments.length > 0) {
    const bytes = attachments.reduce((n, c) => n + c.item.size, 0);
    const quota = await checkCategoryQuota(env, project, "attachment", bytes);
    if (quota.admitted < bytes) {
      const drop = limitedOutcome(quota.limit?.reason ?? "rate_limit");
      for (const c of attachments) {
        over.add(c);
        outcomes.push(drop("attachment", c.item.size));
      }
    }
    if (quota.limit) limits.push({ ...quota.limit, categories: ["attachment"] });
  }

  const accepted = over.size === 0 ? survivors : survivors.filter((c) => !over.has(c));
  return { accepted: accepted.map((c) => c.item), outcomes, limits };
}
