// The canonical event: every protocol (Raygun, Sentry) is normalized into this one shape in the
// processor, and everything downstream (grouping, D1, search, the API, the dashboard) reads only it.
// Frames follow Sentry's order: caller → callee, so the LAST frame is where the error was raised.

export type Protocol = "raygun" | "sentry";

/** What an ingested item is, for routing, sampling, quotas and outcomes (Relay's data categories). */
export type Category =
  | "error"
  | "transaction"
  | "session"
  | "rum"
  | "attachment"
  | "client_report"
  | "user_report"
  | "check_in"
  | "log"
  | "span"
  | "profile"
  | "replay"
  | "default";

export type Level = "fatal" | "error" | "warning" | "info" | "debug";

export interface StackFrame {
  filename: string | null;
  function: string | null;
  module: string | null;
  lineno: number | null;
  colno: number | null;
  inApp: boolean | null;
  contextLine?: string | null;
  absPath?: string | null;
  /** Source-map symbolication (shared/sourcemaps): lines around `contextLine` in the original source. */
  preContext?: string[];
  postContext?: string[];
  /** The frame as reported, before it was mapped to its original source. */
  minified?: {
    filename: string | null;
    function: string | null;
    lineno: number | null;
    colno: number | null;
  };
  /** Why a JavaScript frame could not be mapped (no map, bad map, position out of range). */
  unmapped?: string;
}

export interface ExceptionInfo {
  type: string | null;
  value: string | null;
  module?: string | null;
  /** Caller → callee; the last frame raised. */
  frames: StackFrame[];
  mechanism?: { type?: string; handled?: boolean; synthetic?: boolean } | null;
}

export interface Breadcrumb {
  timestamp: string | null;
  type: string | null;
  category: string | null;
  message: string | null;
  level: Level | null;
  data?: Record<string, unknown> | null;
}

export interface EventUser {
  id?: string | null;
  email?: string | null;
  username?: string | null;
  ipAddress?: string | null;
  isAnonymous?: boolean | null;
  [extra: string]: unknown;
}

export interface EventRequest {
  url?: string | null;
  method?: string | null;
  headers?: Record<string, string> | null;
  query?: Record<string, unknown> | string | null;
  data?: unknown;
  cookies?: unknown;
}

/** Where and how the report reached the edge; filled from the HTTP request, never from the payload. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  colo: string | null;
  origin?: string | null;
}

export interface CanonicalEvent {
  eventId: string;
  projectId: string;
  protocol: Protocol;
  category: Category;
  /** ISO-8601 UTC */
  occurredAt: string;
  /** ISO-8601 UTC */
  receivedAt: string;
  level: Level;
  platform: string | null;
  /** Top-level exception type (class name), or null for a message event. */
  type: string | null;
  message: string;
  /** Oldest → newest (Sentry order); the last is the top-level exception. */
  exceptions: ExceptionInfo[];
  release: string | null;
  environment: string | null;
  serverName: string | null;
  transaction: string | null;
  user: EventUser | null;
  tags: Record<string, string>;
  request: EventRequest | null;
  breadcrumbs: Breadcrumb[];
  contexts: Record<string, unknown>;
  extra: Record<string, unknown>;
  client: ClientInfo;
  sdk: { name: string | null; version: string | null };
  /** Client-supplied grouping override: Raygun groupingKey → [key]; Sentry `fingerprint`. */
  fingerprint: string[] | null;
  /** Transactions only. */
  startTimestamp?: string | null;
  spans?: unknown[] | null;
  /** Notes from normalization (e.g. clock drift corrected, timestamp clamped). */
  normalization?: Record<string, unknown>;
}

export const LEVELS: readonly Level[] = ["fatal", "error", "warning", "info", "debug"];

export function toLevel(value: unknown, fallback: Level = "error"): Level {
  if (typeof value === "string") {
    const v = value.toLowerCase();
    if (v === "warn") return "warning";
    if (v === "critical") return "fatal";
    if ((LEVELS as readonly string[]).includes(v)) return v as Level;
  }
  if (typeof value === "number") {
    // Raygun SDKs (Java, Ruby, .NET Framework) send breadcrumb levels as 0–3.
    return (["debug", "info", "warning", "error"] as const)[value] ?? fallback;
  }
  return fallback;
}
