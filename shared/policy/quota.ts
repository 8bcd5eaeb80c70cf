// The pure quota decision behind the per-project minute counter (a Durable Object that owns the
// state and calls this). Runs after inbound filters and sampling, so dropped items never count.

import type { ProjectSettings } from "../settings";
import { spikeLimit } from "./spike";

export type QuotaReason = "rate_limit" | "spike_protection";

export interface QuotaState {
  /** Items already accepted in the current minute (before this request). */
  acceptedThisMinute: number;
  /** Average accepted per minute over the past 24 h (spike protection's baseline). */
  avgPerMinuteOver24h: number;
  /** Milliseconds since the epoch; decides how long the rest of the minute is. */
  now: number;
  /** Items this request would add (a Raygun bulk post or an envelope); default 1. */
  quantity?: number;
}

export interface QuotaDecision {
  allowed: boolean;
  /** The binding per-minute limit, or null when neither limit applies. */
  limit: number | null;
  /** Seconds until the current minute ends (≥ 1): when the counter resets. For Retry-After. */
  retryAfterSeconds: number;
  /** Which limit binds (the outcome reason when not allowed); null when there is no limit. */
  reason: QuotaReason | null;
}

/**
 * The binding limit is the smaller of the hard rate limit and the spike limit; on a tie the hard
 * rate limit is named, since it is the one the user configured.
 *
 * @example
 * const d = decideQuota(settings, { acceptedThisMinute: 120, avgPerMinuteOver24h: 10, now: Date.now() });
 * if (!d.allowed) return tooManyRequests(d.retryAfterSeconds);
 */
export function decideQuota(
  settings: Pick<ProjectSettings, "rateLimitPerMinute" | "spikeProtection">,
  state: QuotaState,
): QuotaDecision {
  const retryAfterSeconds = secondsUntilNextMinute(state.now);
  let limit: number | null = null;
  let reason: QuotaReason | null = null;
  if (settings.rateLimitPerMinute != null) {
    limit = settings.rateLimitPerMinute;
    reason = "rate_limit";
  }
  if (settings.spikeProtection) {
    const spike = spikeLimit(state.avgPerMinuteOver24h);
    if (limit === null || spike < limit) {
      limit = spike;
      reason = "spike_protection";
    }
  }
  const quantity = state.quantity ?? 1;
  const allowed = limit === null || state.acceptedThisMinute + quantity <= limit;
  return { allowed, limit, retryAfterSeconds, reason };
}

export function secondsUntilNextMinute(now: number): number {
  const rest = 60_000 - (((now % 60_000) + 60_000) % 60_000);
  return Math.max(1, Math.ceil(rest / 1000));
}
