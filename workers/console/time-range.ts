// Parses API time bounds (ISO-8601 or epoch milliseconds) with defaults; bad input is a 400.
import { badRequest } from "../../shared/http/errors";

/** The last millisecond of year 9999: later values overflow Date (and mean nothing here). */
const MAX_TIME = 253_402_300_799_999;

/** Epoch milliseconds of an ISO-8601 date-time or a decimal epoch-ms string in 1970..9999, else null. */
export function toEpochMs(value: string): number | null {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : /^\d/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isFinite(n) && n >= 0 && n <= MAX_TIME ? n : null;
}

export const TIME_FORMAT = "an ISO-8601 date-time or epoch milliseconds (1970 to 9999)";

export function parseTime(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = toEpochMs(value);
  if (n === null) throw badRequest(`${name} must be ${TIME_FORMAT}`);
  return n;
}

/**
 * The bounds a search gives, each optional (no bound is no limit there); bad input, or a from after
 * the to, is the same 400 as timeRange's.
 */
export function openTimeRange(q: { from?: string; to?: string }): { from: number | null; to: number | null } {
  const to = q.to ? parseTime(q.to, 0, "to") : null;
  const from = q.from ? parseTime(q.from, 0, "from") : null;
  if (from !== null && to !== null) inOrder(from, to);
  return { from, to };
}

function inOrder(from: number, to: number): void {
  if (from > to) throw badRequest("from must not be after to");
}

export function timeRange(
  q: { from?: string; to?: string },
  defaultSpanMs = 24 * 3600_000,
): { from: number; to: number } {
  const to = parseTime(q.to, Date.now(), "to");
  const from = parseTime(q.from, Math.max(0, to - defaultSpanMs), "from");
  inOrder(from, to);
  return { from, to };
}
