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
// Every pattern below is linear in its input: each can start only at a literal (or a bounded
// window) and its quantified runs cannot be re-entered from a later start, so one hostile string
// cannot make a batch blow its CPU limit (shared/policy/linear-time.test.ts proves the growth).

/**
 * Cheap pre-check: a string without any trigger skips every rule below. Each trigger is implied by
 * a match of one rule: 13 digits with single separators (CARD), "bearer" / "basic" (any case),
 * "//…@" (URL_AUTH; the short-string loop takes any "@"), "-----BEGIN" (PEM), "=" (PAIR).
 */
const TRIGGER = /\d(?:[ -]?\d){12}|bearer|basic|\/\/[^\s/@]*@|-----BEGIN|=/i;
/** Below this length one charCode loop beats a regex call (most payload strings are short). */
const SHORT = 256;

/**
 * TRIGGER.test for short strings, by hand: the same triggers, in one pass over the characters.
 * Letters other than b lead no trigger and are most of the text, so they are passed first; "bearer"
 * and "basic" are compared in place (a slice per "b" allocated two strings).
 */
function shortHasTrigger(s: string): boolean {
  let run = 0;
  let sep = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ASCII letters c-z and C-Z (c | 32 folds case and maps nothing else into 99..122).
    const lower = c | 32;
    if (lower >= 99 && lower <= 122) {
      run = 0;
      sep = false;
      continue;
    }
    if (c >= 48 && c <= 57) {
      if (++run >= 13) return true;
      sep = false;
      continue;
    }
    if ((c === 32 || c === 45) && run > 0 && !sep) sep = true;
    else {
      run = 0;
      sep = false;
    }
    if (c === 61 || c === 64) return true;
    if (lower === 98) {
      if (credentialWordAt(s, i + 1)) return true;
    } else if (c === 45 && s.charCodeAt(i + 1) === 45 && s.startsWith("----BEGIN", i + 1)) return true;
  }
  return false;
}

/** Whether "earer" or "asic" (any ASCII case) starts at `i`: a "b" there began bearer / basic. */
function credentialWordAt(s: string, i: number): boolean {
  if (foldedAt(s, i, 101))
    return (
      foldedAt(s, i + 1, 97) && foldedAt(s, i + 2, 114) && foldedAt(s, i + 3, 101) && foldedAt(s, i + 4, 114)
    );
  return foldedAt(s, i, 97) && foldedAt(s, i + 1, 115) && foldedAt(s, i + 2, 105) && foldedAt(s, i + 3, 99);
}

/** Whether the character at `at` is the lower-case ASCII letter `ch` in either case. */
const foldedAt = (s: string, at: number, ch: number) => (s.charCodeAt(at) | 32) === ch;

/** Whether any in-string rule could match `s` (false: it is returned unchanged). */
export function hasTrigger(s: string): boolean {
  if (s.length < 4) return false;
  return s.length < SHORT ? shortHasTrigger(s) : TRIGGER.test(s);
}

const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
const BASIC = /\b(basic)\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/gi;
/**
 * `//user:pass@`. No scheme prefix: the replacement keeps whatever precedes `//` anyway, and an
 * optional `[a-z][a-z0-9+.-]*:` prefix let every position of a long "a.a.a." run rescan the run
 * (quadratic: 7 s at 80 KB). Neither run can contain `/`, so starts never share a run.
 */
const URL_AUTH = /\/\/([^\s:@/?#]*):([^\s@/?#]*)@/g;
/** The label of a PEM private-key marker, right after "-----BEGIN " / "-----END " (bounded). */
const PEM_LABEL = /^[A-Z ]{0,64}PRIVATE KEY-----/;
const CARD = /(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)/g;
/** `key=value` in query strings, urlencoded bodies and log lines. */
const PAIR = /(^|[?&;\s])([^=&?;\s#]+)=([^&;\s#]*)/g;

/**
 * Applies the in-string rules; returns the same string when nothing matched.
 * `rules.defaults` gates the built-in patterns; `key=value` pairs honour every key rule.
 */
export function scrubString(s: string, rules: KeyRules): string {
  if (!hasTrigger(s)) return s;
  let out = s;
  if (rules.defaults) {
    if (out.includes("-----BEGIN")) out = scrubPem(out);
    out = out.replace(BEARER, `$1 ${FILTERED}`);
    out = out.replace(BASIC, basicReplacer);
    if (out.includes("@")) out = out.replace(URL_AUTH, urlAuthReplacer);
    out = out.replace(CARD, cardReplacer);
  }
  return out.includes("=") ? scrubPairs(out, rules) : out;
}

/**
 * `key=value` pairs. A function of its own: its replacer closes over `rules`, and a closure makes
 * V8 allocate a context on every call of the function that holds it, before any early return
 * (scrubString runs for every string of every payload: 40 bytes each, ~60 KB per 50 KB report).
 */
function scrubPairs(s: string, rules: KeyRules): string {
  return s.replace(PAIR, (m, pre: string, key: string, value: string) =>
    value && value !== FILTERED && classifyKey(key, rules) !== KEY_PLAIN ? `${pre}${key}=${FILTERED}` : m,
  );
}

/** Only real Basic credentials (base64 of "user:pass"), so prose like "Basic usage" survives. */
function basicReplacer(m: string, word: string, b64: string): string {
  try {
    return atob(b64).includes(":") ? `${word} ${FILTERED}` : m;
  } catch {
    return m;
  }
}

function urlAuthReplacer(m: string, user: string, pass: string): string {
  if (!pass || pass === FILTERED) return m;
  return `//${user ? FILTERED : ""}:${FILTERED}@`;
}

/** The end of a PEM marker's label at `at`, or -1. */
function pemLabelEnd(s: string, at: number): number {
  const m = PEM_LABEL.exec(s.slice(at, at + 80));
  return m ? at + m[0].length : -1;
}

/**
 * Replaces the body of every `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`
 * block. A forward scan with indexOf: once no END marker follows a BEGIN, no later BEGIN can be
 * closed either, so the text is read once (a lazy `[\s\S]*?` regex rescanned it from every BEGIN).
 */
function scrubPem(s: string): string {
  let out = "";
  let copied = 0;
  let from = 0;
  for (;;) {
    const begin = s.indexOf("-----BEGIN ", from);
    if (begin === -1) break;
    const head = pemLabelEnd(s, begin + 11);
    if (head === -1) {
      from = begin + 11;
      continue;
    }
    let end = s.indexOf("-----END ", head);
    let tail = -1;
    while (end !== -1 && (tail = pemLabelEnd(s, end + 9)) === -1) end = s.indexOf("-----END ", end + 9);
    if (end === -1) break;
    out += `${s.slice(copied, head)}\n${FILTERED}\n${s.slice(end, tail)}`;
    copied = from = tail;
  }
  return copied === 0 ? s : out + s.slice(copied);
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
