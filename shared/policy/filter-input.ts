// The cheap view of one report that the edge's inbound filters read: extracted once per item from
// the already-parsed payload, right after validation and before sampling and quotas.
// Only references and a handful of small strings are taken; the payload is never copied.

import type { Category } from "../event";
import { getArrayCI, getCI, getObjectCI, getStringCI, isObject } from "../json/case-insensitive";

/** What every inbound filter sees. Fields are null (or empty) when the payload does not say. */
export interface FilterInput {
  category: Category;
  /** The connecting client (X-Remote-Address / CF-Connecting-IP), never a payload value. */
  clientIp: string | null;
  /** The end user's browser when the payload carries it, else the HTTP client's User-Agent. */
  userAgent: string | null;
  release: string | null;
  /** "Type: value" and the plain value of the top exceptions, and the log message; at most 12. */
  messages: string[];
  /** Request / page URL. */
  url: string | null;
  /** Host header or Raygun `hostName`. */
  host: string | null;
  /** Filenames (abs paths preferred) of the top exception's frames, RAISING FRAME FIRST, at most 50. */
  frameFilenames: string[];
}

/** The HTTP facts the edge already knows about the sender. */
export interface FilterClient {
  ip: string | null;
  userAgent: string | null;
}

const MAX_FRAMES = 50;
const MAX_MESSAGES = 12;
/** Chained exceptions beyond this add cost but almost never change a filter verdict. */
const MAX_EXCEPTIONS = 5;

/**
 * Raygun crash report (or a RUM item, whose `version` sits at the top level). Keys are looked up
 * case-insensitively because SDKs send PascalCase or camelCase.
 *
 * @example filterInputFromRaygun(JSON.parse(body), { ip, userAgent }, "error")
 */
export function filterInputFromRaygun(
  report: unknown,
  client: FilterClient,
  category: Category,
): FilterInput {
  const details = getObjectCI(report, "details") ?? (isObject(report) ? report : null);
  const error = getObjectCI(details, "error");
  const request = getObjectCI(details, "request");
  const headers = getObjectCI(request, "headers");

  const messages: string[] = [];
  const className = getStringCI(error, "className");
  const message = getStringCI(error, "message");
  pushMessage(messages, className, message);

  const frameFilenames: string[] = [];
  // Raygun lists the raising frame first already.
  for (const frame of getArrayCI(error, "stackTrace")) {
    if (frameFilenames.length >= MAX_FRAMES) break;
    const file = getStringCI(frame, "fileName");
    if (file) frameFilenames.push(file);
  }

  return {
    category,
    clientIp: client.ip,
    userAgent: getStringCI(headers, "User-Agent", "userAgent") ?? client.userAgent,
    release: getStringCI(details, "version"),
    messages,
    url: getStringCI(request, "url"),
    host: getStringCI(request, "hostName") ?? getStringCI(headers, "Host"),
    frameFilenames,
  };
}

/**
 * Sentry event (store endpoint or envelope `event`/`transaction` item payload).
 *
 * @example filterInputFromSentry(JSON.parse(itemPayload), { ip, userAgent }, "error")
 */
export function filterInputFromSentry(event: unknown, client: FilterClient, category: Category): FilterInput {
  const ev = isObject(event) ? event : {};
  const request = isObject(ev.request) ? ev.request : null;
  const headers = request ? request.headers : undefined;

  const messages: string[] = [];
  const rawExc = ev.exception;
  const values = Array.isArray(rawExc) ? rawExc : isObject(rawExc) ? rawExc.values : undefined;
  let top: Record<string, unknown> | null = null;
  if (Array.isArray(values)) {
    // Sentry order is oldest → newest; the last one is the top-level exception.
    const stop = Math.max(0, values.length - MAX_EXCEPTIONS);
    for (let i = values.length - 1; i >= stop; i--) {
      const exc = values[i];
      if (!isObject(exc)) continue;
      top ??= exc;
      pushMessage(messages, str(exc.type), str(exc.value));
    }
  }
  pushLogMessage(messages, ev.logentry);
  pushLogMessage(messages, ev.message);

  const frameFilenames: string[] = [];
  const stacktrace =
    top && isObject(top.stacktrace) ? top.stacktrace : isObject(ev.stacktrace) ? ev.stacktrace : null;
  const frames = stacktrace?.frames;
  if (Array.isArray(frames)) {
    // Sentry frames run caller → callee; walk backwards so the raising frame comes first.
    for (let i = frames.length - 1; i >= 0 && frameFilenames.length < MAX_FRAMES; i--) {
      const f = frames[i];
      if (!isObject(f)) continue;
      const file = str(f.abs_path) ?? str(f.filename);
      if (file) frameFilenames.push(file);
    }
  }

  return {
    category,
    clientIp: client.ip,
    userAgent: header(headers, "user-agent") ?? client.userAgent,
    release: str(ev.release),
    messages,
    url: request ? str(request.url) : null,
    host: header(headers, "host") ?? header(headers, "x-forwarded-host"),
    frameFilenames,
  };
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function pushMessage(out: string[], type: string | null, value: string | null): void {
  if (out.length >= MAX_MESSAGES) return;
  if (type && value) {
    out.push(`${type}: ${value}`);
    // The bare value too, so a glob written without the type ("ResizeObserver loop*") matches.
    out.push(value);
  } else if (type || value) {
    out.push((type ?? value) as string);
  }
}

function pushLogMessage(out: string[], log: unknown): void {
  if (out.length >= MAX_MESSAGES) return;
  if (typeof log === "string") {
    if (log) out.push(log);
    return;
  }
  if (!isObject(log)) return;
  const formatted = str(log.formatted);
  const template = str(log.message);
  if (formatted) out.push(formatted);
  if (template && template !== formatted) out.push(template);
}

/** Sentry headers arrive as a map or as a list of [name, value] pairs; names are case-insensitive. */
function header(headers: unknown, lowerName: string): string | null {
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (Array.isArray(pair) && typeof pair[0] === "string" && pair[0].toLowerCase() === lowerName) {
        return str(pair[1]);
      }
    }
    return null;
  }
  return isObject(headers) ? str(getCI(headers, lowerName)) : null;
}
