// A project's allowed origins (settings.allowedOrigins, Sentry's "Allowed Domains"), enforced at
// authentication on every ingestion request that names its page: the Origin header, else the
// Referer (as Relay reads them). A request that names none (server SDKs) passes. A refused one is
// 403 with an `invalid:cors` outcome (Relay's DiscardReason::Cors). CORS preflights carry no key,
// so they stay answerable for everyone (./cors).
//
// Entry forms, as Sentry documents them: "*" (any), "https://app.example.com" (scheme, host and,
// if given, port), "app.example.com" or "app.example.com:8080" (host, any scheme), "*.example.com"
// (the domain and its subdomains), "*:8080" (any host on that port), "null" (sandboxed pages).

import { ClientError } from "../../shared/http/errors";
import type { ProjectRecord } from "./project-cache";

/** Longer Origin / Referer values are refused unread (a real origin is short). */
const MAX_ORIGIN_CHARS = 2048;

/** Thrown when a project refuses the request's origin; carries the project for its outcome. */
export class OriginRejected extends ClientError {
  constructor(readonly project: ProjectRecord) {
    super(403, "event submission rejected with_reason: Cors (origin not allowed)", "forbidden");
  }
}

interface Parsed {
  scheme: string | null;
  host: string;
  port: string | null;
}

function parseEntry(entry: string): Parsed | null {
  let rest = entry.trim().toLowerCase();
  let scheme: string | null = null;
  const sep = rest.indexOf("://");
  if (sep > 0) {
    scheme = rest.slice(0, sep);
    rest = rest.slice(sep + 3);
  }
  const slash = rest.indexOf("/");
  if (slash >= 0) rest = rest.slice(0, slash);
  const colon = rest.lastIndexOf(":");
  const port = colon >= 0 && !rest.endsWith("]") ? rest.slice(colon + 1) : null;
  const host = port === null ? rest : rest.slice(0, colon);
  return host ? { scheme, host, port: port || null } : null;
}

function defaultPort(scheme: string): string | null {
  return scheme === "https" ? "443" : scheme === "http" ? "80" : null;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) {
    const domain = pattern.slice(2);
    return host === domain || host.endsWith(`.${domain}`);
  }
  return pattern === host;
}

/**
 * @example originAllowed(["*.example.com"], "https://app.example.com") // true
 * @example originAllowed(["https://example.com"], "http://example.com") // false
 */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  if (allowed.includes("*")) return true;
  if (origin.length > MAX_ORIGIN_CHARS) return false;
  if (origin === "null") return allowed.includes("null");
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const scheme = url.protocol.replace(/:$/, "");
  const host = url.hostname.toLowerCase();
  const port = url.port || defaultPort(scheme);
  for (const entry of allowed) {
    const e = parseEntry(entry);
    if (!e) continue;
    if (e.scheme !== null && e.scheme !== scheme) continue;
    if (e.port !== null && e.port !== "*" && e.port !== port) continue;
    if (hostMatches(e.host, host)) return true;
  }
  return false;
}

/** The page the request says it comes from: Origin, else Referer; null when it names none. */
export function requestOrigin(request: Request): string | null {
  const h = request.headers;
  return h.get("origin") ?? h.get("referer");
}

/**
 * Throws OriginRejected when the request names a page the project does not allow; returns the page
 * it names (or null), which `clientInfo` records without reading the headers again.
 */
export function checkOrigin(request: Request, project: ProjectRecord): string | null {
  const origin = requestOrigin(request);
  if (origin === null || originAllowed(project.settings.allowedOrigins, origin)) return origin;
  throw new OriginRejected(project);
}
