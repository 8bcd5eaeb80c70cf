// Sentry authentication carriers (query, X-Sentry-Auth, Authorization, envelope `dsn`), read the way
// Relay's `request_meta.rs` reads them, so that every real SDK is identified by its public key.

import { badRequest, ClientError } from "../http/errors";

export interface SentryAuth {
  publicKey: string;
  /** Project id of the envelope-header DSN, when auth came from (or was checked against) it. */
  projectIdFromDsn?: string;
  /** `sentry_client`, e.g. "sentry.javascript.node/11.12.0"; falls back to User-Agent. */
  client?: string;
  version?: number;
}

export interface AuthCarriers {
  /** The raw query string (with or without a leading `?`) or a URLSearchParams. */
  query?: string | URLSearchParams | null;
  /** Request headers; only `x-sentry-auth`, `authorization` and `user-agent` are read. */
  headers?: Headers | Record<string, string | undefined> | null;
  /** The envelope header `dsn`, if any. */
  envelopeDsn?: unknown;
  /** The `{projectId}` of the route; an envelope `dsn` naming another project is refused. */
  routeProjectId?: string | null;
}

export interface Dsn {
  scheme: "http" | "https";
  publicKey: string;
  secretKey: string | null;
  host: string;
  port: number | null;
  /** Path prefix before the project id, without a trailing slash ("" or "/sentry"). */
  path: string;
  projectId: string;
}

/** Relay rejects anything newer than protocol v8 (`PROTOCOL_VERSION`). */
const MAX_PROTOCOL_VERSION = 8;

const unauthorized = (message: string) => new ClientError(401, message, "unauthorized");
const badAuth = () => unauthorized("bad x-sentry-auth header");

/**
 * Finds the public key among the carriers. A request carrier (header/query) wins; the envelope
 * `dsn` is used only when there is none, and must agree with it when both are present.
 *
 * @example extractAuth({ query: "sentry_key=e12d836b15bb49d7bbf99e64295d995b&sentry_version=7" })
 */
export function extractAuth(carriers: AuthCarriers): SentryAuth {
  const get = headerGetter(carriers.headers);
  const found: SentryAuth[] = [];
  for (const name of ["x-sentry-auth", "authorization"]) {
    const value = get(name);
    // Relay ignores headers without the `Sentry ` scheme (e.g. a proxy's `Bearer` token).
    if (value !== null && hasSentryScheme(value)) {
      found.push(parseAuthHeader(value));
    }
  }
  const basic = get("authorization");
  if (basic && basic.slice(0, 6).toLowerCase() === "basic ") {
    const key = decodeBasicKey(basic.slice(6));
    if (key) found.push({ publicKey: key });
  }
  const query = typeof carriers.query === "string" ? carriers.query.replace(/^\?/, "") : carriers.query;
  const queryText = query == null ? "" : query.toString();
  if (queryText.includes("sentry_")) found.push(parseAuthQuery(new URLSearchParams(queryText)));

  // Relay refuses any second carrier; Sluice tolerates duplicates that agree (same key).
  const first = found[0];
  if (found.some((a) => a.publicKey !== first?.publicKey)) {
    throw unauthorized("multiple authorization payloads detected");
  }

  let auth: SentryAuth | undefined = first;
  if (carriers.envelopeDsn != null) {
    const dsn = typeof carriers.envelopeDsn === "string" ? parseDsn(carriers.envelopeDsn) : null;
    if (!dsn) throw unauthorized("bad envelope authentication header");
    if (auth && auth.publicKey !== dsn.publicKey) {
      throw badRequest("invalid envelope", ["public key header mismatch between envelope and request"]);
    }
    if (carriers.routeProjectId != null && carriers.routeProjectId !== dsn.projectId) {
      throw badRequest("invalid envelope", ["project id header mismatch between envelope and request"]);
    }
    auth = { ...(auth ?? { publicKey: dsn.publicKey }), projectIdFromDsn: dsn.projectId };
  }
  if (!auth) throw unauthorized("missing authorization information");
  checkPublicKey(auth.publicKey);
  if (auth.version !== undefined && auth.version > MAX_PROTOCOL_VERSION) {
    throw badRequest(`unsupported protocol version (${auth.version})`);
  }
  const ua = get("user-agent");
  if (!auth.client && ua) auth.client = ua;
  return auth;
}

/**
 * Parses `Sentry sentry_version=7, sentry_client=x/1.0, sentry_key=<key>[, sentry_secret=...]`.
 * Throws 401 "bad x-sentry-auth header" when the scheme, version or key is missing or malformed.
 */
export function parseAuthHeader(value: string): SentryAuth {
  const space = value.indexOf(" ");
  if (space === -1 || value.slice(0, space).toLowerCase() !== "sentry") throw badAuth();
  const pairs: [string, string][] = [];
  for (const part of value.slice(space + 1).split(",")) {
    const [k, v] = part.trim().split("=");
    if (k !== undefined && v !== undefined) pairs.push([k, v]);
  }
  return fromPairs(pairs);
}

function parseAuthQuery(params: URLSearchParams): SentryAuth {
  return fromPairs([...params.entries()]);
}

function fromPairs(pairs: Iterable<[string, string]>): SentryAuth {
  const auth: Partial<SentryAuth> = {};
  for (const [k, v] of pairs) {
    if (k === "sentry_key") auth.publicKey = v;
    else if (k === "sentry_client") auth.client = v;
    else if (k === "sentry_version") {
      // Relay parses the major version as u16; "7.0"-style values are accepted by older SDKs.
      const n = Number.parseFloat(v);
      if (!/^\d+(\.\d+)?$/.test(v) || n > 0xffff) throw badAuth();
      auth.version = Math.floor(n);
    }
  }
  if (!auth.publicKey) throw badAuth();
  return auth as SentryAuth;
}

export function decodeBasicKey(b64: string): string | null {
  try {
    const decoded = atob(b64.trim());
    const colon = decoded.indexOf(":");
    return colon === -1 ? null : decoded.slice(0, colon);
  } catch {
    return null;
  }
}

/** Relay's `ProjectKey::parse`: exactly 32 ASCII characters (an optional `.flags` suffix aside). */
export function checkPublicKey(key: string): void {
  const base = key.split(".")[0] ?? "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range check
  if (base.length !== 32 || !/^[\x00-\x7f]*$/.test(base)) {
    throw badRequest("bad sentry DSN public key");
  }
}

/**
 * Parses `{proto}://{public_key}[:{secret}]@{host}[:port][/path]/{project_id}`; null if invalid.
 *
 * @example parseDsn("http://e12d836b15bb49d7bbf99e64295d995b@127.0.0.1:8787/1")?.projectId // "1"
 */
export function parseDsn(dsn: string): Dsn | null {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return null;
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https") return null;
  if (!url.username) return null;
  const path = url.pathname.replace(/\/+$/, "");
  const slash = path.lastIndexOf("/");
  const projectId = path.slice(slash + 1);
  if (!projectId) return null;
  // URL keeps a malformed escape ("%zz") as it is; decoding it throws, and a DSN is client input.
  const publicKey = decodeComponent(url.username);
  const secretKey = url.password ? decodeComponent(url.password) : null;
  if (publicKey === null || (url.password && secretKey === null)) return null;
  return {
    scheme,
    publicKey,
    secretKey,
    host: url.hostname,
    port: url.port ? Number(url.port) : null,
    path: path.slice(0, slash),
    projectId,
  };
}

/** Whether an auth header uses the `Sentry ` scheme (the only one read from X-Sentry-Auth). */
export function hasSentryScheme(value: string | null): boolean {
  return value !== null && value.length >= 7 && value.slice(0, 7).toLowerCase() === "sentry ";
}

/** decodeURIComponent, or null for a malformed escape. */
function decodeComponent(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function headerGetter(headers: AuthCarriers["headers"]): (name: string) => string | null {
  if (!headers) return () => null;
  if (typeof (headers as Headers).get === "function") return (n) => (headers as Headers).get(n);
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries(headers as Record<string, string | undefined>)) {
    if (v !== undefined) map.set(k.toLowerCase(), v);
  }
  return (n) => map.get(n) ?? null;
}
