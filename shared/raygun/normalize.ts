// Raygun crash report → canonical event. Runs in the processor (never on the edge hot path).
// Keys are looked up case-insensitively; wrong types are coerced or dropped, never fatal.

import type { Breadcrumb, CanonicalEvent, ClientInfo, ExceptionInfo, StackFrame } from "../event";
import { toLevel } from "../event";
import { resolveInApp } from "../grouping/in-app-rules";
import {
  getArrayCI,
  getCI,
  getNumberCI,
  getObjectCI,
  getStringCI,
  isObject,
  type JsonObject,
} from "../json/case-insensitive";
import { timeCorrection } from "../sentry/timestamps";
import { DEFAULT_SETTINGS } from "../settings";
import { epochToIso, parseIsoTimestamp } from "./timestamps";

export interface RaygunContext {
  eventId: string;
  projectId: string;
  receivedAt: number;
  client: ClientInfo;
  /** The project's retention: an occurredOn older than it is clamped (default: the settings'). */
  retentionDays?: number;
}

const MAX_FRAMES = 250;
const MAX_INNER = 10;
const JS_LINE_COL = /^line \d+, column \d+$/;
const PYTHON_FILE = /\.py[cw]?$/i;

/**
 * Raygun's SDKs list the raising frame first (raygun4js, raygun4node, raygun4net, ...), except
 * raygun4py, which walks the traceback from the caller down like Python prints it. A client that
 * does not say which it is is judged by its frames: Python files mean a Python traceback.
 */
export function raygunFramesCallerFirst(sdkName: string, trace: unknown[]): boolean {
  if (sdkName.includes("raygun4py")) return true;
  if (sdkName !== "") return false;
  let files = 0;
  for (const f of trace) {
    const file = getStringCI(f, "fileName");
    if (!file) continue;
    if (!PYTHON_FILE.test(file)) return false;
    files++;
  }
  return files > 0;
}

function frameFromRaygun(raw: unknown, sdkName: string, platform: string | null): StackFrame | null {
  if (!isObject(raw)) return null;
  const filename = getStringCI(raw, "fileName");
  let fn = getStringCI(raw, "methodName");
  let mod = getStringCI(raw, "className");
  let contextLine: string | null = null;
  if (sdkName.includes("raygun4py")) {
    // raygun4py puts the function name in className and the source line in methodName.
    contextLine = fn;
    fn = mod;
    mod = null;
  }
  // raygun4js fills className with "line L, column C"; raygun4node with "unknown".
  if (mod && (JS_LINE_COL.test(mod) || mod === "unknown")) mod = null;
  if (fn === "[anonymous]" || fn === "?" || fn === "") fn = null;
  const module = mod || null;
  return {
    filename,
    function: fn,
    module,
    lineno: getNumberCI(raw, "lineNumber"),
    colno: getNumberCI(raw, "columnNumber"),
    inApp: resolveInApp({ filename, module }, platform, null),
    contextLine,
  };
}

function exceptionFromRaygun(error: JsonObject, sdkName: string, platform: string | null): ExceptionInfo {
  const frames: StackFrame[] = [];
  const trace = getArrayCI(error, "stackTrace");
  // The canonical order is caller → callee; keep the MAX_FRAMES frames nearest the raise.
  if (raygunFramesCallerFirst(sdkName, trace)) {
    for (let i = Math.max(0, trace.length - MAX_FRAMES); i < trace.length; i++) {
      const f = frameFromRaygun(trace[i], sdkName, platform);
      if (f) frames.push(f);
    }
  } else {
    for (let i = Math.min(trace.length, MAX_FRAMES) - 1; i >= 0; i--) {
      const f = frameFromRaygun(trace[i], sdkName, platform);
      if (f) frames.push(f);
    }
  }
  return {
    type: getStringCI(error, "className"),
    value: getStringCI(error, "message"),
    frames,
  };
}

/** Outermost error last, like Sentry's chained exceptions (innerError is the cause). */
function collectExceptions(
  error: JsonObject | null,
  sdkName: string,
  platform: string | null,
): ExceptionInfo[] {
  const chain: ExceptionInfo[] = [];
  let current: JsonObject | null = error;
  while (current && chain.length < MAX_INNER) {
    chain.unshift(exceptionFromRaygun(current, sdkName, platform));
    current = getObjectCI(current, "innerError");
  }
  return chain;
}

function stringMap(value: unknown): Record<string, string> | null {
  if (!isObject(value)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

function breadcrumbsFromRaygun(list: unknown[]): Breadcrumb[] {
  const out: Breadcrumb[] = [];
  for (const b of list.slice(-100)) {
    if (!isObject(b)) continue;
    const data = getCI(b, "customData");
    out.push({
      timestamp: epochToIso(getCI(b, "timestamp")),
      type: getStringCI(b, "type"),
      category: getStringCI(b, "category"),
      message: getStringCI(b, "message"),
      level: toLevel(getCI(b, "level"), "info"),
      data: isObject(data) ? data : null,
    });
  }
  return out;
}

/** Normalizes one Raygun report (already parsed JSON) into the canonical event. */
export function normalizeRaygunReport(report: unknown, ctx: RaygunContext): CanonicalEvent {
  const details = getObjectCI(report, "details") ?? {};
  const error = getObjectCI(details, "error");
  const clientObj = getObjectCI(details, "client");
  const sdkName = getStringCI(clientObj, "name") ?? "";
  const platform = platformFromSdk(sdkName);
  const exceptions = collectExceptions(error, sdkName.toLowerCase(), platform);
  const top = exceptions[exceptions.length - 1];
  const { occurred, notes } = occurredAt(getCI(report, "occurredOn"), ctx);

  const userRaw = getCI(details, "user");
  const userObj = typeof userRaw === "string" ? { identifier: userRaw } : getObjectCI(details, "user");
  const requestObj = getObjectCI(details, "request");
  const tagsRaw = getArrayCI(details, "tags");
  const tags: Record<string, string> = {};
  for (const t of tagsRaw) {
    if (typeof t === "string" || typeof t === "number") tags[String(t).slice(0, 200)] = "true";
  }
  const envObj = getObjectCI(details, "environment");
  const version = getStringCI(details, "version");
  const groupingKey = getStringCI(details, "groupingKey");
  const userCustomData = getCI(details, "userCustomData");
  const response = getObjectCI(details, "response");
  const machineName = getStringCI(details, "machineName");

  const contexts: Record<string, unknown> = {};
  if (envObj) contexts.environment = envObj;
  if (response) contexts.response = response;
  const correlationId = getStringCI(details, "correlationId");
  if (correlationId) contexts.trace = { correlationId };

  const ipFromPayload = getStringCI(requestObj, "iPAddress", "ipAddress");
  return {
    eventId: ctx.eventId,
    projectId: ctx.projectId,
    protocol: "raygun",
    category: "error",
    occurredAt: new Date(occurred).toISOString(),
    receivedAt: new Date(ctx.receivedAt).toISOString(),
    level: "error",
    platform,
    type: top?.type ?? null,
    message: (top?.value ?? top?.type ?? "").slice(0, 8192),
    exceptions,
    release: version && version !== "Not supplied" ? version.slice(0, 200) : null,
    environment: null,
    serverName: machineName,
    transaction: null,
    user: userObj
      ? {
          id: getStringCI(userObj, "identifier", "uuid"),
          email: getStringCI(userObj, "email"),
          username: getStringCI(userObj, "fullName", "firstName"),
          isAnonymous: (getCI(userObj, "isAnonymous") as boolean | undefined) ?? null,
          ipAddress: ipFromPayload ?? ctx.client.ip,
        }
      : null,
    tags,
    request: requestObj
      ? {
          url: getStringCI(requestObj, "url"),
          method: getStringCI(requestObj, "httpMethod"),
          headers: stringMap(getCI(requestObj, "headers")),
          query: (getObjectCI(requestObj, "queryString") as Record<string, unknown> | null) ?? null,
          data: getCI(requestObj, "form") ?? getCI(requestObj, "rawData") ?? null,
        }
      : null,
    breadcrumbs: breadcrumbsFromRaygun(getArrayCI(details, "breadcrumbs")),
    contexts,
    extra: isObject(userCustomData) ? userCustomData : userCustomData === undefined ? {} : { userCustomData },
    client: ctx.client,
    sdk: { name: sdkName || null, version: getStringCI(clientObj, "version") },
    fingerprint: groupingKey && groupingKey.length >= 1 && groupingKey.length <= 100 ? [groupingKey] : null,
    ...(notes ? { normalization: notes } : {}),
  };
}

/**
 * When the report happened: occurredOn, clamped by the rule Sentry events get (Relay's, in
 * shared/sentry/timestamps.ts): more than 60 s ahead of the receive time, or older than the
 * project's retention, it becomes the receive time. Unclamped, "9999-12-31" kept its group out of
 * retention's reach forever, and years 0–99 read as 1900–1999 (Date.UTC) or 1000 passed as is.
 * Raygun sends no sent_at, so there is no clock drift to correct.
 */
function occurredAt(
  value: unknown,
  ctx: RaygunContext,
): { occurred: number; notes: Record<string, unknown> | null } {
  const parsed = parseIsoTimestamp(value);
  if (parsed === null) return { occurred: ctx.receivedAt, notes: null };
  const { shift, notes } = timeCorrection({
    timestamp: parsed / 1000,
    sentAt: null,
    receivedAt: ctx.receivedAt / 1000,
    retentionDays: ctx.retentionDays ?? DEFAULT_SETTINGS.retentionDays,
  });
  if (shift === 0) return { occurred: parsed, notes: null };
  return { occurred: ctx.receivedAt, notes };
}

function platformFromSdk(name: string): string | null {
  const n = name.toLowerCase();
  if (n.includes("raygun-js") || n.includes("raygun4js")) return "javascript";
  if (n.includes("node")) return "node";
  if (n.includes("py")) return "python";
  if (n.includes("net")) return "csharp";
  if (n.includes("java") || n.includes("android")) return "java";
  if (n.includes("php")) return "php";
  if (n.includes("ruby")) return "ruby";
  if (n.includes("apple") || n.includes("cocoa")) return "cocoa";
  return n || null;
}
