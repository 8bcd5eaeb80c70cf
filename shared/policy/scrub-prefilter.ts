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
const CARD_CANDIDATE = /(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)/g;

function luhn(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, "");
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

/** False only when no scrubbing rule could possibly change this payload. */
export function mayNeedScrubbing(text: string, options: ScrubOptions): boolean {
  if (options.scrubIpAddresses) return true;
  if (options.sensitiveFields.length > 0) {
    const lower = text.toLowerCase();
    if (options.sensitiveFields.some((f) => f.trim() !== "" && lower.includes(f.trim().toLowerCase())))
      return true;
  }
  if (!options.defaults) return false;
  if (KEY_TRIGGER.test(text) || STRING_TRIGGER.test(text)) return true;
  CARD_CANDIDATE.lastIndex = 0;
  for (let m = CARD_CANDIDATE.exec(text); m; m = CARD_CANDIDATE.exec(text)) {
    if (luhn(m[0])) return true;
  }
  return false;
}
