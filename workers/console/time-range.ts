// Parses API time bounds (ISO-8601 or epoch milliseconds) with defaults; bad input is a 400.
import { badRequest } from "../../shared/http/errors";

export function parseTime(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw badRequest(`${name} must be an ISO-8601 date-time or epoch milliseconds`);
  return n;
}

export function timeRange(
  q: { from?: string; to?: string },
  defaultSpanMs = 24 * 3600_000,
): { from: number; to: number } {
  const to = parseTime(q.to, Date.now(), "to");
  const from = parseTime(q.from, to - defaultSpanMs, "from");
  if (from > to) throw badRequest("from must not be after to");
  return { from, to };
}
