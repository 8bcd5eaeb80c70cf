// Sentry event/transaction payload → CanonicalEvent, in the processor. Mirrors the parts of Relay's
// normalization that change what users see: timestamps, IPs, levels, tags, messages, exceptions.

import type { CanonicalEvent, ClientInfo } from "../event";
import { toLevel } from "../event";
import { badRequest } from "../http/errors";
import { isObject, type JsonObject } from "../json/case-insensitive";
import {
  MAX_CHARS,
  messageText,
  normalizeBreadcrumbs,
  normalizeExceptions,
  normalizeRequest,
  normalizeTags,
  normalizeUser,
  str,
  trimChars,
} from "./event-parts";
import { parseTimestamp, shiftField, timeCorrection, toIso } from "./timestamps";

export interface NormalizeContext {
  /** The envelope header's event_id (it wins over the payload's), else the payload's or a new one. */
  eventId: string;
  projectId: string;
  /** Milliseconds since the epoch at the edge. */
  receivedAt: number;
  client: ClientInfo;
  /** Envelope header `sent_at`, for clock drift correction. */
  sentAt?: string | null;
  /** Events older than this are clamped to the receive time. */
  retentionDays: number;
  category: "error" | "transaction" | "default";
}

/** Relay's known platforms; anything else becomes "other". */
const PLATFORMS = new Set([
  "as3",
  "c",
  "cfml",
  "cocoa",
  "csharp",
  "elixir",
  "haskell",
  "go",
  "groovy",
  "java",
  "javascript",
  "native",
  "node",
  "objc",
  "other",
  "perl",
  "php",
  "python",
  "ruby",
]);
/** Platforms whose SDKs never send `{{auto}}` but expect the client IP to be recorded. */
const IP_BACKFILL_PLATFORMS = new Set(["javascript", "cocoa", "objc"]);

/**
 * Normalizes one Sentry event payload. Never throws on odd field types (they are coerced or
 * dropped); only a payload that is not a JSON object is a 400.
 *
 * @example normalizeSentryEvent(JSON.parse(text), { eventId, projectId: "1", receivedAt: Date.now(),
 *   client, sentAt: envelope.headers.sent_at as string, retentionDays: 90, category: "error" })
 */
export function normalizeSentryEvent(payload: unknown, ctx: NormalizeContext): CanonicalEvent {
  if (!isObject(payload)) throw badRequest("invalid event", ["event payload must be a JSON object"]);
  const e = payload;
  const isTransaction = ctx.category === "transaction";
  const received = ctx.receivedAt / 1000;
  const notes: Record<string, unknown> = {};

  const timestamp = parseTimestamp(e.timestamp);
  // Relay's legacy rule: a transaction without `sent_at` is treated as sent at its own timestamp.
  const sentAt = parseTimestamp(ctx.sentAt) ?? (isTransaction ? timestamp : null);
  const { shift, notes: timeNotes } = timeCorrection({
    timestamp,
    sentAt,
    receivedAt: received,
    retentionDays: ctx.retentionDays,
  });
  Object.assign(notes, timeNotes);
  const occurred = timestamp === null ? received : timestamp + shift;

  const platformRaw = str(e.platform);
  const platform = platformRaw && PLATFORMS.has(platformRaw) ? platformRaw : "other";

  const exceptions = normalizeExceptions(e.exception, e.stacktrace, notes, platform);
  const top = exceptions[exceptions.length - 1];
  const text = messageText(e.logentry, e.message);
  const transaction = str(e.transaction);
  const message =
    top?.value ?? top?.type ?? text ?? (isTransaction ? transaction : null) ?? "<unlabeled event>";

  const { tags, environment: envTag } = normalizeTags(e.tags);
  const environment = str(e.environment) || envTag;
  const serverName = str(e.server_name);
  if (serverName && !("server_name" in tags)) tags.server_name = trimChars(serverName, MAX_CHARS.tag);
  const site = str(e.site);
  if (site && !("site" in tags)) tags.site = trimChars(site, MAX_CHARS.tag);
  const dist = str(e.dist);
  if (dist) tags.dist = trimChars(dist, MAX_CHARS.dist);
  const logger = str(e.logger);
  if (logger && !("logger" in tags)) tags.logger = trimChars(logger, MAX_CHARS.logger);

  const user = normalizeUser(e.user);
  const request = normalizeRequest(e.request);
  const ip = resolveIp(e, user, platform, ctx.client.ip);

  const sdk = isObject(e.sdk) ? e.sdk : {};
  const event: CanonicalEvent = {
    eventId: ctx.eventId,
    projectId: ctx.projectId,
    protocol: "sentry",
    category: ctx.category,
    occurredAt: toIso(occurred),
    receivedAt: toIso(received),
    level: toLevel(e.level, isTransaction ? "info" : "error"),
    platform,
    type: top?.type ?? null,
    message: trimChars(message, MAX_CHARS.message),
    exceptions,
    release: str(e.release) ? trimChars(str(e.release)!, 200) : null,
    environment: environment ? trimChars(environment, MAX_CHARS.environment) : null,
    serverName,
    transaction: transaction ? trimChars(transaction, 200) : null,
    user: ip
      ? { ...user, ipAddress: ip }
      : user?.ipAddress === "{{auto}}"
        ? { ...user, ipAddress: null }
        : user,
    tags,
    request,
    breadcrumbs: normalizeBreadcrumbs(e.breadcrumbs, shift),
    contexts: isObject(e.contexts) ? e.contexts : {},
    extra: isObject(e.extra) ? e.extra : {},
    client: ctx.client,
    sdk: { name: str(sdk.name), version: str(sdk.version) },
    fingerprint: Array.isArray(e.fingerprint)
      ? e.fingerprint.map(str).filter((s): s is string => s !== null)
      : null,
  };
  if (isTransaction) {
    const start = parseTimestamp(e.start_timestamp);
    event.startTimestamp = start === null ? null : toIso(start + shift);
    event.spans = Array.isArray(e.spans) ? e.spans.filter(isObject).map((s) => shiftSpan(s, shift)) : null;
  }
  if (Object.keys(notes).length > 0) event.normalization = notes;
  return event;
}

function shiftSpan(span: JsonObject, shift: number): JsonObject {
  if (shift === 0) return span;
  const copy = { ...span };
  shiftField(copy, "start_timestamp", shift);
  shiftField(copy, "timestamp", shift);
  return copy;
}

/**
 * Relay's `normalize_ip_addresses`: `{{auto}}` means "the address this came from"; an explicit
 * REMOTE_ADDR fills a missing user IP; browser and Apple SDKs get the client IP by default.
 */
function resolveIp(
  e: JsonObject,
  user: ReturnType<typeof normalizeUser>,
  platform: string,
  clientIp: string | null,
): string | null {
  const env = isObject(e.request) && isObject(e.request.env) ? e.request.env : null;
  let remoteAddr = env ? str(env.REMOTE_ADDR) : null;
  if (remoteAddr === "{{auto}}") remoteAddr = clientIp;
  let userIp = user?.ipAddress ?? null;
  if (userIp === "{{auto}}") userIp = clientIp;
  if (userIp) return userIp;
  if (remoteAddr && isIp(remoteAddr)) return remoteAddr;
  if (clientIp && IP_BACKFILL_PLATFORMS.has(platform)) return clientIp;
  return null;
}

const isIp = (s: string) => /^[\d.]+$/.test(s) || /^[0-9a-f:.]+$/i.test(s);
