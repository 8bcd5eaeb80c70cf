// Sentry timestamps (RFC 3339 strings or unix seconds) and Relay's time corrections: clock drift
// against `sent_at` (only when ≥ 55 min, i.e. a wrong timezone) and the future/past range clamp.

/** Relay's `MINIMUM_CLOCK_DRIFT`: smaller skews are network latency, not a wrong clock. */
export const MIN_CLOCK_DRIFT_SECONDS = 55 * 60;
/** Relay's `max_secs_in_future`. */
export const MAX_SECS_IN_FUTURE = 60;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Unix seconds (float) from a Sentry timestamp, or null when absent/invalid. Strings without a
 * zone are UTC (as in Relay); numeric strings are unix seconds; pre-1970 values are invalid.
 */
export function parseTimestamp(value: unknown): number | null {
  let secs: number | null = null;
  if (typeof value === "number") secs = value;
  else if (typeof value === "string") {
    const s = value.trim();
    if (/^\d+(\.\d+)?$/.test(s)) secs = Number(s);
    else {
      const m = RFC3339.exec(s);
      if (!m) return null;
      const [, y, mo, d, h, mi, se, frac, , sign, oh, om] = m;
      const base = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!);
      if (Number.isNaN(base) || +mo! > 12 || +d! > 31 || +h! > 23 || +mi! > 59 || +se! > 60) return null;
      const offset = sign ? (sign === "-" ? -1 : 1) * (+oh! * 3600 + +om! * 60) : 0;
      secs = base / 1000 + (frac ? Number(`0.${frac}`) : 0) - offset;
    }
  }
  if (secs === null || !Number.isFinite(secs) || secs < 0 || secs > 253402300799) return null;
  return secs;
}

/** ISO-8601 UTC with millisecond precision. */
export const toIso = (secs: number) => new Date(Math.round(secs * 1000)).toISOString();

export interface TimeCorrection {
  /** Seconds to add to every timestamp of the event. */
  shift: number;
  /** What Relay would record in `_meta` / event errors, for `CanonicalEvent.normalization`. */
  notes: Record<string, unknown>;
}

/**
 * Decides the shift for an event: first clock drift against `sent_at` (≥ 55 min only), then, if
 * the corrected timestamp is still > received + 60 s or older than the retention, a shift that
 * puts it at the receive time (Relay's `future_timestamp` / `past_timestamp`).
 */
export function timeCorrection(opts: {
  timestamp: number | null;
  sentAt: number | null;
  receivedAt: number;
  retentionDays: number;
}): TimeCorrection {
  const { timestamp, sentAt, receivedAt } = opts;
  const notes: Record<string, unknown> = {};
  let shift = 0;
  if (sentAt !== null) {
    const drift = receivedAt - sentAt;
    if (Math.abs(drift) >= MIN_CLOCK_DRIFT_SECONDS) {
      shift = drift;
      notes.clock_drift = { sdk_time: toIso(sentAt), server_time: toIso(receivedAt), drift_seconds: drift };
    }
  }
  if (timestamp !== null) {
    const corrected = timestamp + shift;
    const maxPast = Math.max(0, opts.retentionDays) * 86_400;
    const kind =
      corrected > receivedAt + MAX_SECS_IN_FUTURE
        ? "future_timestamp"
        : corrected < receivedAt - maxPast
          ? "past_timestamp"
          : null;
    if (kind) {
      notes.timestamp_error = { type: kind, sdk_time: toIso(corrected), server_time: toIso(receivedAt) };
      shift = receivedAt - timestamp;
    }
  }
  return { shift, notes };
}

/** Shifts a timestamp field in place (as unix seconds, how Relay serializes them); keeps bad ones. */
export function shiftField(obj: Record<string, unknown>, key: string, shift: number): void {
  if (shift === 0 || !(key in obj)) return;
  const t = parseTimestamp(obj[key]);
  if (t !== null) obj[key] = t + shift;
}
