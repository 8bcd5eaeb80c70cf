// PII scrubbing, applied by the processor BEFORE anything is stored: it scrubs the parsed raw
// payload (Raygun or Sentry, any JSON), stores that scrubbed JSON as the raw blob, and normalizes
// the scrubbed payload, so the canonical event is clean by construction. `scrubCanonicalEvent`
// then only adds what normalization brings from outside the payload (the HTTP client IP).
//
// One pass, copy-on-write: untouched subtrees are returned by reference, only the path to a
// change is shallow-copied. Never throws. Containers nested deeper than MAX_DEPTH are replaced by
// TOO_DEEP rather than left as-is: unscanned data could hold PII, and no real SDK nests that deep.

import type { CanonicalEvent } from "../event";
import { isObject } from "../json/case-insensitive";
import { setOwn } from "../json/own-property";
import {
  classifyKey,
  FILTERED,
  isTokenCount,
  KEY_IP,
  KEY_PLAIN,
  KEY_SENSITIVE,
  type KeyRules,
  type KeyVerdict,
  scrubString,
} from "./scrub-rules";

export { FILTERED } from "./scrub-rules";

export interface ScrubOptions {
  /** Relay's default rules: password-like keys, cards, bearer/basic, URL auth, PEM keys. */
  defaults: boolean;
  /** Remove known IP fields (user.ip_address, REMOTE_ADDR, Raygun iPAddress, X-Forwarded-For, …). */
  scrubIpAddresses: boolean;
  /** Extra key names, case-insensitive substring match (Sentry's "Additional Sensitive Fields"). */
  sensitiveFields: string[];
}

export interface ScrubResult<T = unknown> {
  value: T;
  changed: boolean;
}

export const MAX_DEPTH = 64;
export const TOO_DEEP = "[Filtered: too deep]";
const SCRUB_FAILED = "[Filtered: scrub failed]";
/** JSON-looking strings (request bodies, Raygun rawData) up to this size are parsed and scrubbed. */
const MAX_EMBEDDED_JSON = 64 * 1024;
const KEY_CACHE_LIMIT = 2048;
const MAX_CACHED_KEY = 128;

const REMOVE: unique symbol = Symbol("remove");

interface Ctx extends KeyRules {
  keyCache: Map<string, KeyVerdict>;
}

/**
 * Compiled per options content, not per object: the processor gets each item's policy from its
 * queue message, a fresh object every time, and a context per item would classify every key anew.
 * Bounded: a few projects' settings at a time, each with a bounded key cache.
 */
const compiled = new Map<string, Ctx>();
const MAX_CONTEXTS = 16;

function context(o: ScrubOptions): Ctx {
  const flags = (o.defaults ? 1 : 0) | (o.scrubIpAddresses ? 2 : 0);
  const id = o.sensitiveFields.length === 0 ? String(flags) : `${flags}${JSON.stringify(o.sensitiveFields)}`;
  let ctx = compiled.get(id);
  if (!ctx) {
    ctx = {
      defaults: o.defaults,
      scrubIp: o.scrubIpAddresses,
      fields: o.sensitiveFields.map((f) => f.trim().toLowerCase()).filter((f) => f !== ""),
      keyCache: new Map(),
    };
    if (compiled.size >= MAX_CONTEXTS) compiled.clear();
    compiled.set(id, ctx);
  }
  return ctx;
}

/**
 * Scrubs any parsed JSON value; `changed` is false (and `value` the same reference) when nothing
 * needed scrubbing.
 *
 * @example
 * const { value } = scrubJson(JSON.parse(raw), settings.scrubbing);
 * await storeRaw(JSON.stringify(value));
 */
export function scrubJson(value: unknown, options: ScrubOptions): ScrubResult {
  try {
    const ctx = context(options);
    // With every rule off the depth is still capped: normalization and the console stringify
    // subtrees (header values, exception values), which overflows Node's stack from ~10,000
    // levels (workerd's V8 copes today); what is stored must not depend on the engine reading it.
    const out =
      !ctx.defaults && !ctx.scrubIp && ctx.fields.length === 0 ? cutDepth(value, 0) : walk(value, 0, ctx);
    return { value: out, changed: !Object.is(out, value) };
  } catch {
    // Unreachable for parsed JSON; for exotic input (getters, proxies) fail closed, never leak.
    return { value: SCRUB_FAILED, changed: true };
  }
}

/**
 * Scrubs a canonical event. Normally already clean (built from the scrubbed payload), so this is
 * a cheap no-copy pass; with IP scrubbing it also clears `client.ip`, which normalization takes
 * from the HTTP request rather than the payload.
 */
export function scrubCanonicalEvent(
  event: CanonicalEvent,
  options: ScrubOptions,
): ScrubResult<CanonicalEvent> {
  const r = scrubJson(event, options);
  let out = isObject(r.value) ? (r.value as unknown as CanonicalEvent) : event;
  // The IP-key rule removed `client.ip`; the canonical shape wants it present and null.
  if (options.scrubIpAddresses && out.client && out.client.ip !== null) {
    out = { ...out, client: { ...out.client, ip: null } };
  }
  return { value: out, changed: out !== event };
}

function verdict(key: string, ctx: Ctx): KeyVerdict {
  // The cache holds what it keys on: long "keys" (a code line heading a 2-element array) would pin
  // up to KEY_CACHE_LIMIT large strings in the isolate, so they are classified each time instead.
  if (key.length > MAX_CACHED_KEY) return classifyKey(key, ctx);
  let v = ctx.keyCache.get(key);
  if (v === undefined) {
    v = classifyKey(key, ctx);
    if (ctx.keyCache.size >= KEY_CACHE_LIMIT) ctx.keyCache.clear();
    ctx.keyCache.set(key, v);
  }
  return v;
}

/** The replacement for a value under a sensitive key; nothing to hide in null, "" or booleans. */
function redact(key: string, value: unknown): unknown {
  if (value === null || value === "" || typeof value === "boolean" || value === FILTERED) return value;
  if (isTokenCount(key, value)) return value;
  return FILTERED;
}

/** `v` with containers nested deeper than MAX_DEPTH replaced by TOO_DEEP, copy-on-write like walk. */
function cutDepth(v: unknown, depth: number): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const next = cutDepth(v[i], depth + 1);
      if (next !== v[i]) (out ??= v.slice())[i] = next;
    }
    return out ?? v;
  }
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key in obj) {
    const next = cutDepth(obj[key], depth + 1);
    if (next === obj[key]) continue;
    out ??= { ...obj };
    setOwn(out, key, next); // "__proto__" stays a key
  }
  return out ?? obj;
}

function walk(v: unknown, depth: number, ctx: Ctx): unknown {
  if (typeof v === "string") return walkString(v, depth, ctx);
  if (typeof v !== "object" || v === null) return v;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  return Array.isArray(v) ? walkArray(v, depth, ctx) : walkObject(v as Record<string, unknown>, depth, ctx);
}

function walkString(s: string, depth: number, ctx: Ctx): string {
  const c = s.charCodeAt(0);
  // `{` or `[`: a JSON document inside a string (request bodies, rawData): scrub it structurally.
  if ((c === 123 || c === 91) && s.length <= MAX_EMBEDDED_JSON && s.length > 1 && mayBeJson(s, c)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === "object" && parsed !== null) {
      const out = walk(parsed, depth + 1, ctx);
      return out === parsed ? s : JSON.stringify(out);
    }
  }
  return scrubString(s, ctx);
}

/**
 * Whether `s` (opening with `{` or `[`) can be JSON at all, judged by its first token: a failed
 * JSON.parse throws, and building the exception costs microseconds (raygun4js names every
 * anonymous function "[anonymous]", so a browser report holds several).
 */
function mayBeJson(s: string, open: number): boolean {
  let i = 1;
  let c = s.charCodeAt(i);
  // JSON whitespace: space, tab, line feed, carriage return.
  while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++i);
  if (open === 123) return c === 34 || c === 125; // `"` or `}`
  // A value (`{ [ " - 0-9 t f n`) or `]`.
  return (
    c === 123 ||
    c === 91 ||
    c === 34 ||
    c === 45 ||
    (c >= 48 && c <= 57) ||
    c === 116 ||
    c === 102 ||
    c === 110 ||
    c === 93
  );
}

function walkArray(arr: unknown[], depth: number, ctx: Ctx): unknown[] {
  let out: unknown[] | null = null;
  let removed = false;
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    let next: unknown;
    // [name, value] pairs: Sentry headers, cookies and query strings may come as pair lists.
    if (Array.isArray(item) && item.length === 2 && typeof item[0] === "string") {
      const kv = verdict(item[0], ctx);
      if (kv === KEY_IP) next = item[1] == null ? item : REMOVE;
      else if (kv === KEY_SENSITIVE) {
        const r = redact(item[0], item[1]);
        next = r === item[1] ? item : [item[0], r];
      } else next = walk(item, depth + 1, ctx);
    } else {
      next = walk(item, depth + 1, ctx);
    }
    if (next !== item) {
      out ??= arr.slice();
      out[i] = next;
      if (next === REMOVE) removed = true;
    }
  }
  if (!out) return arr;
  return removed ? out.filter((x) => x !== REMOVE) : out;
}

function pairVerdict(obj: Record<string, unknown>, ctx: Ctx): KeyVerdict {
  const name = obj.name ?? obj.Name ?? obj.key ?? obj.Key;
  return typeof name === "string" ? verdict(name, ctx) : KEY_PLAIN;
}

function walkObject(obj: Record<string, unknown>, depth: number, ctx: Ctx): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const key in obj) {
    const value = obj[key];
    let kv = verdict(key, ctx);
    // {name, value} records (Raygun .NET cookies and form lists): the name decides for the value.
    // Looked up only for such a record, so that names elsewhere (SDKs, contexts) never fill the cache.
    if (kv === KEY_PLAIN && (key === "value" || key === "Value")) kv = pairVerdict(obj, ctx);
    let next: unknown;
    if (kv === KEY_IP) next = value == null ? value : REMOVE;
    else if (kv === KEY_SENSITIVE) next = redact(key, value);
    else next = walk(value, depth + 1, ctx);
    if (next === value) continue;
    out ??= { ...obj };
    if (next === REMOVE) {
      delete out[key];
    } else if (key === "__proto__") {
      setOwn(out, key, next);
    } else {
      out[key] = next;
    }
  }
  return out ?? obj;
}
