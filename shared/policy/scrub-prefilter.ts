// A text-level pre-check for scrubbing: every rule of ./scrub.ts needs a trigger that is visible in
// the raw JSON text (a sensitive key name, "bearer"/"basic", URL credentials, a PEM header, a
// Luhn-valid card-length digit run, an extra sensitive field). A payload with none of them is
// stored as received without walking it: a few native regex scans instead of a walk that tests
// every string (the walk measured ~1.5× JSON.parse on 20 KB reports). When in doubt it says yes.

import type { ScrubOptions } from "./scrub";

/**
 * Key names of the default rules (and session-cookie names) where they act as keys: inside a JSON
 * key (the word, then the closing quote and a colon) or a `key=value` pair. A file path such as
 * "/src/auth/login.js" is a value and does not trigger.
 */
const KEY_WORDS =
  "password|passwd|secret|api[-_]?key|auth|credential|mysql_pwd|private[-_]?key|token|cookie|csrf|xsrf|otp|two[-_]factor|session|phpsessid|jsessionid|connect\\.sid";
const KEY_TRIGGER = new RegExp(
  `(?:${KEY_WORDS})[^"\\\\]{0,80}"\\s*:|(?:${KEY_WORDS})[^\\s"&=;?]{0,80}=`,
  "i",
);
/** Bearer/Basic credentials, PEM private keys, user:password@ in URLs (also with JSON-escaped slashes). */
const STRING_TRIGGER = /bearer|basic|-----BEGIN|\/\/[^\s"/@]*:[^\s"/@]*@|\\\/\\\/[^\s"/@]*:[^\s"/@]*@/i;
/** Literal words whose absence proves the key and string triggers cannot match (cheap native scans). */
const KEY_LITERALS = [
  "password",
  "passwd",
  "secret",
  "apikey",
  "api_key",
  "api-key",
  "auth",
  "credential",
  "mysql_pwd",
  "privatekey",
  "private_key",
  "private-key",
  "token",
  "cookie",
  "csrf",
  "xsrf",
  "otp",
  "two_factor",
  "two-factor",
  "session",
  "phpsessid",
  "jsessionid",
  "connect.sid",
];
const STRING_LITERALS = ["bearer", "basic", "-----begin", "@"];

function luhn(digits: number[], from: number, to: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = to - 1; i >= from; i--) {
    let d = digits[i]!;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const runDigits: number[] = [];

/**
 * Whether the text holds a Luhn-valid run of 13–19 digits (single spaces or dashes allowed
 * between digits), i.e. anything the card rule could match. One pass, no regex backtracking.
 */
function hasCardNumber(text: string): boolean {
  let n = 0;
  let sepAllowed = false;
  const check = () => {
    if (n < 13) return false;
    // Every 13–19 digit window of the run is a candidate, as the card rule would see it.
    for (let len = 13; len <= Math.min(19, n); len++) {
      for (let start = 0; start + len <= n; start++) if (luhn(runDigits, start, start + len)) return true;
    }
    return false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      runDigits[n++] = c - 48;
      sepAllowed = true;
      if (n > 64) n = 64; // absurdly long digit strings: the windows above still cover them
    } else if ((c === 32 || c === 45) && sepAllowed) {
      sepAllowed = false;
    } else {
      if (check()) return true;
      n = 0;
      sepAllowed = false;
    }
  }
  return check();
}

/** False only when no scrubbing rule could possibly change this payload. */
export function mayNeedScrubbing(text: string, options: ScrubOptions): boolean {
  if (options.scrubIpAddresses) return true;
  if (options.sensitiveFields.length > 0) {
    const lower = text.toLowerCase();
    if (options.sensitiveFields.some((f) => f.trim() !== "" && lower.includes(f.trim().toLowerCase())))
      return true;
  }
  if (!options.defaults) return false;
  const lower = text.toLowerCase();
  if (KEY_LITERALS.some((w) => lower.includes(w)) && KEY_TRIGGER.test(text)) return true;
  if (STRING_LITERALS.some((w) => lower.includes(w)) && STRING_TRIGGER.test(text)) return true;
  return hasCardNumber(text);
}
