// A text-level pre-check for scrubbing: every rule of ./scrub.ts needs a trigger that is visible in
// the raw JSON text (a sensitive key name, "bearer"/"basic", URL credentials, a PEM header, a
// Luhn-valid card-length digit run, an extra sensitive field). A payload with none of them is
// stored as received without walking it: a few native regex scans instead of a walk that tests
// every string (the walk measured ~1.5× JSON.parse on 20 KB reports). When in doubt it says yes.

import type { ScrubOptions } from "./scrub";
import { luhn } from "./scrub-rules";

/**
 * Key names of the default rules (and session-cookie names) where they act as keys: inside a JSON
 * key (the word, then the closing quote and a colon) or a `key=value` pair. A file path such as
 * "/src/auth/login.js" is a value and does not trigger.
 */
const KEY_WORDS =
  "password|passwd|secret|api[-_]?key|auth|credential|mysql_pwd|private[-_]?key|token|cookie|csrf|xsrf|otp|two[-_]factor|session|phpsessid|jsessionid|connect\\.sid";
const KEY_WORD = new RegExp(KEY_WORDS, "gi");
/** After a key word: the rest of a JSON key (then `":`), or of a `key=value` key (then `=`). */
const AS_JSON_KEY = /^[^"\\]{0,80}"\s*:/;
const AS_PAIR_KEY = /^[^\s"&=;?]{0,80}=/;

/** Whether a key word occurs where it acts as a key (occurrences are few: each is checked in place). */
function hasSensitiveKey(text: string): boolean {
  KEY_WORD.lastIndex = 0;
  for (let m = KEY_WORD.exec(text); m; m = KEY_WORD.exec(text)) {
    const after = text.slice(KEY_WORD.lastIndex, KEY_WORD.lastIndex + 84);
    if (AS_JSON_KEY.test(after) || AS_PAIR_KEY.test(after)) return true;
  }
  return false;
}
/** Bearer/Basic credentials, PEM private keys, user:password@ in URLs (also with JSON-escaped slashes). */
// The user part excludes ":" so that only the first colon splits user from password: with ":"
// allowed on both sides, a run of colons made every colon a split point (quadratic).
const STRING_TRIGGER = /bearer|basic|-----BEGIN|\/\/[^\s"/@:]*:[^\s"/@]*@|\\\/\\\/[^\s"/@:]*:[^\s"/@]*@/i;
/**
 * One case-insensitive scan for every literal the key and string triggers need (a single regex is
 * ~5× faster than lower-casing the text and searching it word by word); only a hit runs the precise
 * patterns above. URL credentials always contain "@".
 */
const ANY_LITERAL =
  /password|passwd|secret|api[-_]?key|auth|credential|mysql_pwd|private[-_]?key|token|cookie|csrf|xsrf|otp|two[-_]factor|session|phpsessid|jsessionid|connect\.sid|bearer|basic|-----begin|@/i;

/** Whether some 13–19 digit window of a run passes Luhn (the windows the card rule can match). */
function runHasCard(digits: string): boolean {
  for (let len = 13; len <= Math.min(19, digits.length); len++) {
    for (let start = 0; start + len <= digits.length; start++)
      if (luhn(digits.slice(start, start + len))) return true;
  }
  return false;
}

const MAX_RUN_CHECKED = 64;

/** Runs of 13+ digits with single spaces or dashes between them: the card rule's raw material. */
const DIGIT_RUN = /\d(?:[ -]?\d){12,}/g;

/**
 * Whether the text holds a Luhn-valid run of 13–19 digits (single spaces or dashes allowed
 * between digits), i.e. anything the card rule could match. A regex finds the (rare) long runs
 * (measured ~1.7× faster than a charCodeAt loop over the whole text); each is checked in place.
 */
function hasCardNumber(text: string): boolean {
  DIGIT_RUN.lastIndex = 0;
  for (let m = DIGIT_RUN.exec(text); m; m = DIGIT_RUN.exec(text)) {
    // The card rule can match a group-aligned window anywhere in a separated run; a run longer
    // than the windows checked here is simply sent to the (linear) walk: conservative and bounded.
    const digits = m[0].replace(/[ -]/g, "");
    if (digits.length > MAX_RUN_CHECKED || runHasCard(digits)) return true;
  }
  return false;
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
  if (ANY_LITERAL.test(text) && (hasSensitiveKey(text) || STRING_TRIGGER.test(text))) return true;
  return hasCardNumber(text);
}
