// Formatting for the dashboard: relative and absolute times, counts, durations. Pure functions,
// so pages render the same on every request for the same data.

const UNITS: [number, string][] = [
  [365 * 86_400_000, "y"],
  [30 * 86_400_000, "mo"],
  [86_400_000, "d"],
  [3600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
];

/** "3 min ago" / "in 2 h"; "just now" under a second. */
export function relTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso);
  const d = now - t;
  const abs = Math.abs(d);
  for (const [ms, unit] of UNITS) {
    if (abs >= ms) {
      const n = Math.floor(abs / ms);
      return d >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return "just now";
}

/** "2026-04-27 06:28:43 UTC" */
export function absTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso);
  return `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Short bucket label: "06:00" for hourly buckets, "Apr 27" for daily ones. */
export function bucketLabel(iso: string, stepMs: number): string {
  const d = new Date(iso);
  if (stepMs < 86_400_000) return d.toISOString().slice(11, 16);
  return d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

export function fmtNum(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n.toLocaleString("en-US");
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}

export function fmtPct(rate: number | null | undefined): string {
  if (rate == null || !Number.isFinite(rate)) return "—";
  return `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 1 : 2)}%`;
}

/** Any value as display text: strings as they are, everything else as JSON (indented if `pretty`). */
export function asText(v: unknown, pretty = false): string {
  if (v == null) return "";
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, pretty ? 2 : undefined);
  } catch {
    return String(v);
  }
}
