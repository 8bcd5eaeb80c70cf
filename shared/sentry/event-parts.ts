// Field-level pieces of Sentry event normalization (exceptions, frames, user, request, tags,
// breadcrumbs). Each coerces or drops odd input instead of throwing: SDKs send surprising shapes.

import type { Breadcrumb, EventRequest, EventUser, ExceptionInfo, StackFrame } from "../event";
import { toLevel } from "../event";
import { resolveInApp } from "../grouping/in-app-rules";
import { isObject } from "../json/case-insensitive";
import { setOwn } from "../json/own-property";
import { parseTimestamp, toIso } from "./timestamps";

/** Relay's `MaxChars` limits. */
export const MAX_CHARS = {
  tag: 200,
  message: 8192,
  logger: 64,
  environment: 64,
  dist: 64,
  culprit: 200,
  email: 75,
};
/** Beyond this many frames a stack trace keeps its outermost and innermost halves. */
export const MAX_FRAMES = 250;

/** Trims like Relay's trimming processor: cut and end with "...", staying within `max`. */
export function trimChars(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

/** A string, or a number/boolean coerced to one; anything else null. */
export function str(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return String(v);
  return null;
}

const int = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : null);

/** Accepts `{values: [...]}`, a bare array, or (for exceptions) a single object. */
export function values(v: unknown, allowSingle = false): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) {
    if (Array.isArray(v.values)) return v.values;
    if (allowSingle && !("values" in v)) return [v];
  }
  return [];
}

/** Pairs (`[["k","v"]]`) or an object, as entries with string values; non-scalar values dropped. */
export function entries(v: unknown): [string, string][] {
  const out: [string, string][] = [];
  if (Array.isArray(v)) {
    for (const pair of v) {
      if (!Array.isArray(pair)) continue;
      const k = str(pair[0]);
      const val = str(pair[1]);
      if (k !== null && val !== null) out.push([k, val]);
    }
  } else if (isObject(v)) {
    for (const [k, raw] of Object.entries(v)) {
      const val = str(raw);
      if (val !== null) out.push([k, val]);
    }
  }
  return out;
}

/**
 * Frames caller → callee, as every Sentry SDK sends them. `in_app` is the SDK's where it sent one;
 * elsewhere the platform's default rules (shared/grouping/in-app-rules.ts) decide.
 */
export function normalizeFrames(
  stacktrace: unknown,
  notes: Record<string, unknown>,
  platform: string | null = null,
): StackFrame[] {
  const raw = isObject(stacktrace) && Array.isArray(stacktrace.frames) ? stacktrace.frames : [];
  let frames = raw.filter(isObject);
  if (frames.length > MAX_FRAMES) {
    const half = MAX_FRAMES / 2;
    notes.frames_omitted = ((notes.frames_omitted as number) ?? 0) + frames.length - MAX_FRAMES;
    frames = [...frames.slice(0, half), ...frames.slice(-half)];
  }
  const anyInApp = frames.some((f) => typeof f.in_app === "boolean");
  return frames.map((f) => {
    const fn = str(f.function);
    const filename = str(f.filename);
    const module = str(f.module);
    const absPath = str(f.abs_path);
    const sdkFlag = typeof f.in_app === "boolean" ? f.in_app : null;
    const frame: StackFrame = {
      filename,
      function: fn === "?" || fn === "" ? null : fn,
      module,
      lineno: int(f.lineno),
      colno: int(f.colno),
      inApp: resolveInApp({ filename, module, absPath }, platform, sdkFlag, anyInApp),
    };
    if (f.context_line !== undefined) frame.contextLine = str(f.context_line);
    if (f.abs_path !== undefined) frame.absPath = absPath;
    return frame;
  });
}

const TYPE_VALUE = /^(\w+):(.*)$/;

/**
 * Exceptions oldest → newest. Splits "Type: msg" values without a type, drops entries with
 * neither type nor value, and lets a lone exception take the event's top-level stack trace.
 */
export function normalizeExceptions(
  exception: unknown,
  topStacktrace: unknown,
  notes: Record<string, unknown>,
  platform: string | null = null,
): ExceptionInfo[] {
  const list = values(exception, true).filter(isObject);
  const out: ExceptionInfo[] = [];
  for (const e of list) {
    let type = str(e.type) || null;
    let value =
      typeof e.value === "string"
        ? e.value
        : e.value == null
          ? null
          : (str(e.value) ?? JSON.stringify(e.value));
    if (!type && value) {
      const m = TYPE_VALUE.exec(value);
      if (m) {
        type = m[1]!;
        value = m[2]!.trim();
      }
    }
    if (!type && !value) continue;
    const stacktrace = list.length === 1 && isObject(topStacktrace) ? topStacktrace : e.stacktrace;
    const info: ExceptionInfo = { type, value, frames: normalizeFrames(stacktrace, notes, platform) };
    const module = str(e.module);
    if (module) info.module = module;
    if (isObject(e.mechanism)) {
      const m = e.mechanism;
      info.mechanism = {};
      if (typeof m.type === "string") info.mechanism.type = m.type;
      if (typeof m.handled === "boolean") info.mechanism.handled = m.handled;
      if (typeof m.synthetic === "boolean") info.mechanism.synthetic = m.synthetic;
    }
    out.push(info);
  }
  return out;
}

/** Text of `logentry` / `message` (string or `{formatted, message}`), formatted text preferred. */
export function messageText(logentry: unknown, message: unknown): string | null {
  for (const m of [logentry, message]) {
    if (typeof m === "string" && m) return m;
    if (isObject(m)) {
      const text = str(m.formatted) || str(m.message);
      if (text) return text;
    }
  }
  return null;
}

export function normalizeUser(user: unknown): EventUser | null {
  if (!isObject(user)) return null;
  const out: EventUser = {};
  for (const [k, v] of Object.entries(user)) {
    if (v == null) continue;
    if (k === "id") out.id = str(v);
    else if (k === "email") out.email = str(v) === null ? null : trimChars(str(v)!, MAX_CHARS.email);
    else if (k === "username") out.username = str(v);
    else if (k === "ip_address") out.ipAddress = str(v);
    // Defined, not assigned: a "__proto__" key would otherwise become the user's prototype.
    else setOwn(out, k, v);
  }
  return out;
}

export function normalizeRequest(request: unknown): EventRequest | null {
  if (!isObject(request)) return null;
  const out: EventRequest = {};
  const url = str(request.url);
  if (url) out.url = url;
  const method = str(request.method);
  if (method) out.method = method.toUpperCase();
  if (request.headers != null) out.headers = Object.fromEntries(entries(request.headers));
  const q = request.query_string;
  if (typeof q === "string") out.query = q.replace(/^\?/, "");
  else if (q != null) out.query = Array.isArray(q) ? Object.fromEntries(entries(q)) : isObject(q) ? q : null;
  if (request.data !== undefined) out.data = request.data;
  if (request.cookies != null) {
    out.cookies =
      typeof request.cookies === "string" ? request.cookies : Object.fromEntries(entries(request.cookies));
  }
  return out;
}

/** Breadcrumbs with their timestamps shifted by the event's time correction. */
export function normalizeBreadcrumbs(breadcrumbs: unknown, shift: number): Breadcrumb[] {
  return values(breadcrumbs)
    .filter(isObject)
    .map((b) => {
      const t = parseTimestamp(b.timestamp);
      const crumb: Breadcrumb = {
        timestamp: t === null ? null : toIso(t + shift),
        type: str(b.type),
        category: str(b.category),
        message: str(b.message),
        level: b.level == null ? null : toLevel(b.level, "info"),
      };
      if (isObject(b.data)) crumb.data = b.data;
      return crumb;
    });
}

/** Relay strips these user-supplied tags: they mirror event fields. */
const RESERVED_TAGS = new Set(["release", "dist", "user", "filename", "function"]);

/** Tags as a map: first occurrence wins, keys/values trimmed to 200, reserved keys dropped. */
export function normalizeTags(tags: unknown): { tags: Record<string, string>; environment: string | null } {
  const out: Record<string, string> = {};
  let environment: string | null = null;
  for (const [rawKey, rawValue] of entries(tags)) {
    const key = trimChars(rawKey.trim(), MAX_CHARS.tag);
    const value = trimChars(rawValue.trim(), MAX_CHARS.tag);
    if (!key || RESERVED_TAGS.has(key)) continue;
    if (key === "environment") {
      environment ??= value;
      continue;
    }
    if (!Object.hasOwn(out, key)) out[key] = value;
  }
  return { tags: out, environment };
}
