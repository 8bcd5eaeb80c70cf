// Raygun's occurredOn arrives in every ISO-8601 flavour the SDKs produce: "Z" or "+00:00",
// 0–7 fractional digits (.NET sends 7), sometimes no zone at all (treated as UTC).

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** `n` ASCII digits of `s` from `at` as a number, or -1 if any is not a digit. */
function digitsAt(s: string, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

/**
 * The shape nearly every SDK sends, JavaScript's toISOString ("2015-09-08T01:55:28.000Z", or
 * without the milliseconds), read without the regular expression: it is checked on every report at
 * the edge. Returns undefined for any other shape (the general parser decides those).
 */
function parseUtcIso(v: string): number | null | undefined {
  const n = v.length;
  if (n !== 20 && n !== 24) return undefined;
  if (v[4] !== "-" || v[7] !== "-" || v[10] !== "T" || v[13] !== ":" || v[16] !== ":") return undefined;
  if (v[n - 1] !== "Z" || (n === 24 && v[19] !== ".")) return undefined;
  const y = digitsAt(v, 0, 4);
  const mo = digitsAt(v, 5, 2);
  const d = digitsAt(v, 8, 2);
  const h = digitsAt(v, 11, 2);
  const mi = digitsAt(v, 14, 2);
  const s = digitsAt(v, 17, 2);
  const ms = n === 24 ? digitsAt(v, 20, 3) : 0;
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || ms < 0) return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return null;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

/** Milliseconds since the epoch, or null when the string is not an ISO-8601 date-time. */
export function parseIsoTimestamp(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const fast = parseUtcIso(value);
  if (fast !== undefined) return fast;
  const m = ISO_RE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  if (Number.isNaN(t)) return null;
  if (
    Number(mo) < 1 ||
    Number(mo) > 12 ||
    Number(d) < 1 ||
    Number(d) > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59
  )
    return null;
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0);
    t -= sign * offset * 60_000;
  }
  return t;
}

/** Breadcrumb timestamps: ms since epoch (JS, Node, .NET, Java) or seconds (Ruby): below 1e12 = seconds. */
export function epochToIso(value: unknown): string | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n === "number" && Number.isFinite(n) && n > 0) {
    const ms = n < 1e12 ? n * 1000 : n;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  const iso = parseIsoTimestamp(value);
  return iso === null ? null : new Date(iso).toISOString();
}
