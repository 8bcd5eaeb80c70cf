// X-Sentry-Rate-Limits and Retry-After, byte-for-byte in Relay's grammar (`format_rate_limits`),
// because SDKs parse this header to back off per category; a wrong format means no back-off.

export type RateLimitScope = "global" | "organization" | "project" | "key";

export interface RateLimit {
  /** Seconds until the limit lifts; fractions are rounded up on the wire. */
  retryAfterSeconds: number;
  /** Relay data category names; empty means every category. */
  categories: string[];
  scope: RateLimitScope;
  reasonCode?: string | null;
  /** Only meaningful for the `metric_bucket` category. */
  namespaces?: string[];
}

const seconds = (s: number) => Math.max(0, Math.ceil(Number.isFinite(s) ? s : 0));

/**
 * Formats limits as `retry_after:cat;cat:scope[:reason[:namespaces]]`, joined by ", ".
 *
 * @example formatRateLimits([{ retryAfterSeconds: 60, categories: ["transaction"], scope: "key" }])
 * // "60:transaction:key"
 */
export function formatRateLimits(limits: readonly RateLimit[]): string {
  return limits
    .map((l) => {
      let s = `${seconds(l.retryAfterSeconds)}:${l.categories.join(";")}:${l.scope}`;
      const ns = l.namespaces ?? [];
      if (l.reasonCode) s += `:${l.reasonCode}`;
      else if (ns.length > 0) s += ":"; // an empty reason code delimits the namespaces
      if (ns.length > 0) s += `:${ns.join(";")}`;
      return s;
    })
    .join(", ");
}

/** `Retry-After` value: whole seconds of the longest active limit, or null when there is none. */
export function retryAfterSeconds(limits: readonly RateLimit[]): number | null {
  if (limits.length === 0) return null;
  return Math.max(...limits.map((l) => seconds(l.retryAfterSeconds)));
}

/** Both headers for a response, empty when no limit is active. */
export function rateLimitHeaders(limits: readonly RateLimit[]): Record<string, string> {
  const retry = retryAfterSeconds(limits);
  if (retry === null) return {};
  return { "X-Sentry-Rate-Limits": formatRateLimits(limits), "Retry-After": String(retry) };
}

/**
 * Parses the header the way SDKs do (`ratelimit.ts` in sentry-javascript): an unparsable
 * retry_after counts as 60 s, empty categories mean all, unknown trailing fields are ignored.
 */
export function parseRateLimits(header: string): RateLimit[] {
  const out: RateLimit[] = [];
  for (const entry of header.trim().split(",")) {
    if (!entry.trim()) continue;
    const [retry = "", cats = "", scope = "", reason, ns] = entry.trim().split(":");
    const n = Number.parseFloat(retry);
    const limit: RateLimit = {
      retryAfterSeconds: Number.isNaN(n) ? 60 : n,
      categories: cats.split(";").filter((c) => c !== ""),
      scope: scope as RateLimitScope,
    };
    if (reason) limit.reasonCode = reason;
    if (ns) limit.namespaces = ns.split(";").filter((c) => c !== "");
    out.push(limit);
  }
  return out;
}

/** Whether an item of `category` is covered by any of the limits (empty categories = all). */
export function isLimited(limits: readonly RateLimit[], category: string | null): boolean {
  if (category === null || category === "internal") return false; // client reports are never limited
  return limits.some((l) => l.categories.length === 0 || l.categories.includes(category));
}
