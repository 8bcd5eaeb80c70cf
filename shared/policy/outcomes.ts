// Builders for the outcome of every item the pipeline accepts or drops, so that all stages name
// reasons one way, and the aggregation that folds them into per-minute counters before they are
// queued or written (one D1 row per project, category, outcome, reason and minute).
//
// Reason naming (one pattern, kebab/snake as Relay emits them):
//   filtered      → the inbound filter's name: "ip-address", "release-version", "error-message",
//                   "localhost", "browser-extensions", "legacy-browsers", "web-crawlers"
//   sampled       → "sample_rate"
//   rate_limited  → "rate_limit" | "spike_protection"
//   invalid       → "invalid:<detail>", detail in snake_case ("invalid:json", "invalid:missing_details")
//   too_large     → "too_large"
//   accepted      → "" (no reason)

import type { Category } from "../event";
import type { OutcomeKind, OutcomeRecord } from "../queue-message";
import type { QuotaReason } from "./quota";

export const SAMPLE_RATE_REASON = "sample_rate";
export const TOO_LARGE_REASON = "too_large";

interface Common {
  quantity?: number;
  /** Milliseconds since the epoch; defaults to now. */
  at?: number;
}

/** The general builder; prefer the named ones below. */
export function outcome(
  projectId: string,
  category: Category,
  kind: OutcomeKind,
  reason: string,
  opts: Common = {},
): OutcomeRecord {
  return {
    projectId,
    category,
    outcome: kind,
    reason,
    quantity: opts.quantity ?? 1,
    at: opts.at ?? Date.now(),
  };
}

export const acceptedOutcome = (projectId: string, category: Category, opts?: Common) =>
  outcome(projectId, category, "accepted", "", opts);

/** @example filteredOutcome(pid, "error", applyInboundFilters(input, settings)!) */
export const filteredOutcome = (projectId: string, category: Category, filterName: string, opts?: Common) =>
  outcome(projectId, category, "filtered", filterName, opts);

export const sampledOutcome = (projectId: string, category: Category, opts?: Common) =>
  outcome(projectId, category, "sampled", SAMPLE_RATE_REASON, opts);

export const rateLimitedOutcome = (
  projectId: string,
  category: Category,
  reason: QuotaReason,
  opts?: Common,
) => outcome(projectId, category, "rate_limited", reason, opts);

/** @example invalidOutcome(pid, "error", "missing_occurred_on") // reason "invalid:missing_occurred_on" */
export const invalidOutcome = (projectId: string, category: Category, detail: string, opts?: Common) =>
  outcome(projectId, category, "invalid", invalidReason(detail), opts);

export const tooLargeOutcome = (projectId: string, category: Category, opts?: Common) =>
  outcome(projectId, category, "too_large", TOO_LARGE_REASON, opts);

/** Normalizes a free-form detail into "invalid:<snake_case>" (bounded, so it cannot explode D1 keys). */
export function invalidReason(detail: string): string {
  const d = detail
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 64);
  return d ? `invalid:${d}` : "invalid";
}

/** Floors a timestamp to its minute (how outcomes are bucketed). */
export const minuteOf = (at: number): number => Math.floor(at / 60_000) * 60_000;

/**
 * Sums records that share (projectId, category, outcome, reason, minute); each output record's
 * `at` is the minute's start. Order follows the first occurrence of each key.
 */
export function mergeOutcomes(records: readonly OutcomeRecord[]): OutcomeRecord[] {
  const byKey = new Map<string, OutcomeRecord>();
  for (const r of records) {
    const minute = minuteOf(r.at);
    const key = `${r.projectId}\u0000${r.category}\u0000${r.outcome}\u0000${r.reason}\u0000${minute}`;
    const prev = byKey.get(key);
    if (prev) prev.quantity += r.quantity;
    else byKey.set(key, { ...r, at: minute });
  }
  return [...byKey.values()];
}
