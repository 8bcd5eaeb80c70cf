// When a failed delivery is tried again: the configured backoff (ALERT_RETRY_DELAYS, seconds per
// retry; its length is the retry budget), or the target's Retry-After when it asks for longer,
// capped so one target cannot park an alert for more than an hour per attempt.

/** 10 s, 30 s, 1 min, 5 min, 15 min: six attempts within about 22 minutes. */
export const DEFAULT_RETRY_DELAYS = [10, 30, 60, 300, 900];
const MAX_RETRY_AFTER_SECONDS = 3600;

/** Parses "10,30,60"; anything unusable falls back to the defaults. */
export function retryDelays(setting: string | undefined): number[] {
  if (!setting) return DEFAULT_RETRY_DELAYS;
  const parts = setting.split(",").map((s) => Number(s.trim()));
  return parts.length > 0 &&
    parts.length <= 20 &&
    parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 43_200)
    ? parts
    : DEFAULT_RETRY_DELAYS;
}

/** Retry-After as seconds from now (delta-seconds or an HTTP date), or null when absent or bad. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const v = header.trim();
  if (/^\d{1,10}$/.test(v)) return Math.min(Number(v), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, Math.ceil((at - now) / 1000)), MAX_RETRY_AFTER_SECONDS);
}

/**
 * The delay before attempt `attempt + 1`, or null when `attempt` (1-based) was the last one.
 *
 * @example nextDelay([10, 30], 1, null) // 10
 * @example nextDelay([10, 30], 1, 120) // 120 (the target asked for more)
 * @example nextDelay([10, 30], 3, null) // null: dead letter
 */
export function nextDelay(
  delays: readonly number[],
  attempt: number,
  retryAfter: number | null,
): number | null {
  const base = delays[attempt - 1];
  if (base === undefined) return null;
  return Math.max(base, retryAfter ?? 0);
}
