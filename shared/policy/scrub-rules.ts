// The rules behind ./scrub.ts: which keys are sensitive or hold IPs, and the in-string patterns
// (credit cards, bearer/basic credentials, URL passwords, PEM private keys, `key=value` pairs).
// Modeled on Relay's `@common:filter` (relay-pii/src/regexes.rs, builtin.rs, convert.rs).

export const FILTERED = "[Filtered]";

/**
 * Relay's PASSWORD_KEY_REGEX + TOKEN_KEY_REGEX, plus cookies and CSRF tokens (Cookie/Set-Cookie
 * headers and `cookies` fields hold session credentials). Deliberately NO bare "session": Raygun
 * RUM's `sessionId` is the (non-secret) session identity that sampling and billing use, and
 * Sentry's session payloads are structural; only session-cookie names are listed below.
 */
const SENSITIVE_KEY =
  /password|passwd|secret|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token|cookie|csrf|xsrf|^otp$|^two[-_]factor$/i;

/** Exact (lower-cased) names of framework session cookies, should they appear outside cookies. */
const SESSION_NAMES = new Set(["session", "_session", "__session", "phpsessid", "jsessionid", "connect.sid"]);

/** Keys (lower-cased, "-" → "_") whose value is an IP address: removed when IP scrubbing is on. */
const IP_KEYS = new Set([
  "ip",
  "ip_address",
  "ipaddress",
  "client_ip",
  "remote_addr",
  "x_forwarded_for",
  "x_real_ip",
  "x_client_ip",
  "x_remote_address",
  "cf_connecting_ip",
  "true_client_ip",
  "forwarded",
]);

export const KEY_PLAIN = 0;
export const KEY_SENSITIVE = 1;
export const KEY_IP = 2;
export type KeyVerdict = typeof KEY_PLAIN | typeof KEY_SENSITIVE | typeof KEY_IP;

export interface KeyRules {
  defaults: boolean;
  scrubIp: boolean;
  /** Lower-cased extra sensitive field names (substring match). */
  fields: readonly string[];
}

export function classifyKey(key: string, rules: KeyRules): KeyVerdict {
  const lower = key.toLowerCase();
  if (rules.scrubIp && IP_KEYS.has(lower.replaceAll("-", "_"))) return KEY_IP;
  if (rules.defaults && (SENSITIVE_KEY.test(key) || SESSION_NAMES.has(lower))) return KEY_SENSITIVE;
  for (const f of rules.fields) if (lower.includes(f)) return KEY_SENSITIVE;
  return KEY_PLAIN;
}

/** Token *counts* (gen_ai.usage.input_tokens, max_tokens) are numbers, not secrets. */
export function isTokenCount(key: string, value: unknown): boolean {
  return typeof value === "number" && /tokens$/i.test(key);
}

// --- in-string patterns (all part of the default rules) --------------------------------------

/** Cheap pre-check: strings without any trigger skip every rule below. */
const TRIGGER = /\d[ -]?\d[ -]?\d[ -]?\d|bearer|basic|\/\/[^\s/@]*@|-----BEGIN|=/i;

const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
const BASIC = /\b(basic)\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/gi;
const URL_AUTH = /((?:\b[a-z][a-z0-9+.-]*:)?\/\/)([^\s:@/?#]*):([^\s@/?#]*)@/gi;
const PEM = /(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----)/g;
const CARD = /(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)/g;
/** `key=value` in query strings, urlencoded bodies and log lines. */
const PAIR = /(^|[?&;\s])([^=&?;\s#]+)=([^&;\s#]*)/g;

/**
 * Applies the in-string rules; returns the same string when nothing matched.
 * `rules.defaults` gates the built-in patterns; `key=value` pairs honour every key rule.
 */
export function scrubString(s: string, rules: KeyRules): string {
  if (s.length < 4 || !TRIGGER.test(s)) return s;
  let out = s;
  if (rules.defaults) {
    if (out.includes("-----BEGIN")) out = out.replace(PEM, `$1\n${FILTERED}\n$2`);
    out = out.replace(BEARER, `$1 ${FILTERED}`);
    out = out.replace(BASIC, basicReplacer);
    if (out.includes("@")) out = out.replace(URL_AUTH, urlAuthReplacer);
    out = out.replace(CARD, cardReplacer);
  }
  if (out.includes("=")) {
    out = out.replace(PAIR, (m, pre: string, key: string, value: string) =>
      value && value !== FILTERED && classifyKey(key, rules) !== KEY_PLAIN ? `${pre}${key}=${FILTERED}` : m,
    );
  }
  return out;
}

/** Only real Basic credentials (base64 of "user:pass"), so prose like "Basic usage" survives. */
function basicReplacer(m: string, word: string, b64: string): string {
  try {
    return atob(b64).includes(":") ? `${word} ${FILTERED}` : m;
  } catch {
    return m;
  }
}

function urlAuthReplacer(m: string, prefix: string, user: string, pass: string): string {
  if (!pass || pass === FILTERED) return m;
  return `${prefix}${user ? FILTERED : ""}:${FILTERED}@`;
}

function cardReplacer(m: string): string {
  const digits = m.replace(/[ -]/g, "");
  return digits.length >= 13 && digits.length <= 19 && hasCardPrefix(digits) && luhn(digits) ? FILTERED : m;
}

/** Issuer prefixes (Visa, Mastercard, Amex, Discover, JCB, Diners): keeps ms timestamps safe. */
function hasCardPrefix(d: string): boolean {
  return /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6011|64[4-9]|65|62)/.test(d);
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
