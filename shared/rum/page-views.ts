// Raygun RUM payload item → page views with load times, for the per-page, per-minute aggregates
// (views and load-time percentiles). Web items carry `data` as a JSON *string* of timing entries;
// mobile items use `{name, timing:{type, duration}}`. Numeric fields may arrive as strings.

import { withoutQuery } from "../http/without-query";
import { getArrayCI, getCI, getNumberCI, getObjectCI, getStringCI, isObject } from "../json/case-insensitive";

/** Upper bounds (ms) of the load-time histogram buckets; the last bucket is open-ended. */
export const LOAD_BUCKETS_MS = [
  50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000,
] as const;
export const BUCKET_COUNT = LOAD_BUCKETS_MS.length + 1;

export interface PageView {
  page: string;
  loadMs: number | null;
}

export function bucketOf(ms: number): number {
  for (let i = 0; i < LOAD_BUCKETS_MS.length; i++) if (ms <= LOAD_BUCKETS_MS[i]!) return i;
  return LOAD_BUCKETS_MS.length;
}

/** Longer load times are no page's (a clock error or a hostile count): the view counts, not the time. */
export const MAX_LOAD_MS = 86_400_000;

/** `https://shop.example/cart?id=1#x` → `/cart` (query and fragment carry user data, not pages). */
export function normalizePage(url: string): string {
  const path = withoutQuery(url).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  return (path || "/").slice(0, 300);
}

function dataEntries(item: unknown): unknown[] {
  const data = getCI(item, "data");
  if (typeof data === "string") {
    try {
      const parsed = JSON.parse(data);
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  }
  return Array.isArray(data) ? data : getArrayCI(item, "data");
}

/** Page views (web `p`/`v` timings, mobile `p` view loads) in one RUM item. */
export function pageViewsOf(item: unknown): PageView[] {
  const type = (getStringCI(item, "type") ?? "").toLowerCase();
  if (type !== "web_request_timing" && type !== "mobile_event_timing") return [];
  const out: PageView[] = [];
  for (const entry of dataEntries(item)) {
    if (!isObject(entry)) continue;
    const timing = getObjectCI(entry, "timing");
    const t = (getStringCI(timing, "t", "type") ?? "").toLowerCase();
    if (t !== "p" && t !== "v") continue;
    const page = getStringCI(entry, "url", "name");
    if (!page) continue;
    const loadMs = getNumberCI(timing, "du", "duration");
    // Bounded: the aggregates sum load times in D1, whose sum() fails on 64-bit overflow.
    const valid = loadMs !== null && loadMs >= 0 && loadMs <= MAX_LOAD_MS;
    out.push({ page: normalizePage(page), loadMs: valid ? loadMs : null });
  }
  return out;
}

/** Approximate percentile from histogram counts: the upper bound of the bucket holding rank p. */
export function percentileFromHistogram(counts: number[], p: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(p * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LOAD_BUCKETS_MS[i] ?? LOAD_BUCKETS_MS[LOAD_BUCKETS_MS.length - 1]! * 2;
  }
  return null;
}
