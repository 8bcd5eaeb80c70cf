// Sentry ingestion routes: POST /api/:projectId/envelope/ (every item type; unknown ones kept) and
// the legacy POST /api/:projectId/store/ (one JSON event). Authenticate against the path's project
// from the request's own carriers before reading the body; decode (gzip/deflate/br/zstd, limits on
// the decoded bytes); for a tunnel (dsn only in the envelope header) parse the header alone and
// authenticate before any item; parse items up to the item cap; check Relay's size limits and
// envelope rules, admit (filters, sampling, quotas), enqueue, and answer 200 {"id"} before any heavy
// work. Rate-limited items are stripped; 429 only when every item was limited.

import type { Context } from "hono";
import { Hono } from "hono";
import { badRequest, ClientError } from "../../../shared/http/errors";
import {
  decodeRaw,
  decodeUtf8,
  readBody,
  readDecoded,
  readFirstLine,
  readRawBody,
} from "../../../shared/http/read-body";
import { newEventId, normalizeUuid } from "../../../shared/ids";
import type { QueueKind } from "../../../shared/queue-message";
import { type Envelope, parseEnvelopeHeader, parseEnvelopeItems } from "../../../shared/sentry/envelope";
import {
  checkEnvelopeConstraints,
  checkEnvelopeLimits,
  MAX_ENVELOPE_BYTES,
  MAX_ITEMS_PER_ENVELOPE,
  SLUICE_LIMITS,
} from "../../../shared/sentry/limits";
import { formatRateLimits, type RateLimit as SentryRateLimit } from "../../../shared/sentry/rate-limits";
import { admit, type RateLimit } from "../admission";
import { clientInfo } from "../client-info";
import { enqueue } from "../enqueue";
import { itemPolicy, type ProjectRecord } from "../project-cache";
import type { EdgeApp } from "../types";
import { authenticateSentry, hasRequestAuth } from "./auth";
import { envelopeEventId, storeAdmittedBinaries, toCandidates } from "./envelope-items";

type Ctx = Context<EdgeApp>;

const encoder = new TextEncoder();

function rateLimitHeaders(limits: RateLimit[]): Record<string, string> {
  if (limits.length === 0) return {};
  const sentry: SentryRateLimit[] = limits.map((l) => ({
    retryAfterSeconds: l.retryAfterSeconds,
    categories: l.categories,
    scope: "project",
    reasonCode: l.reason,
  }));
  const retry = Math.max(...limits.map((l) => Math.ceil(l.retryAfterSeconds)));
  return { "X-Sentry-Rate-Limits": formatRateLimits(sentry), "Retry-After": String(retry) };
}

/** The legacy store endpoint's body as a one-item envelope (the JSON event, or base64+zlib text). */
async function storeBodyToEnvelope(bytes: Uint8Array): Promise<Envelope> {
  let text = decodeUtf8(bytes, "event");
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("{")) {
    // Very old SDKs send base64(zlib(json)) (Relay's store endpoint accepts it too). The inflate
    // streams through the event size limit: 32 KB of base64 can hold 24 MiB of zeros.
    let bin: Uint8Array;
    try {
      bin = Uint8Array.from(atob(trimmed.trim()), (ch) => ch.charCodeAt(0));
    } catch {
      throw badRequest("invalid event", ["body is neither JSON nor base64-encoded zlib JSON"]);
    }
    const inflated = await readDecoded(new Blob([bin]).stream(), "deflate", {
      limit: SLUICE_LIMITS.maxEventSize,
      what: "event",
    }).catch((err: unknown) => {
      if (err instanceof ClientError && err.status === 413) throw err;
      throw badRequest("invalid event", ["body is neither JSON nor base64-encoded zlib JSON"]);
    });
    text = decodeUtf8(inflated, "event");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badRequest("invalid event", [`event is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badRequest("invalid event", ["event payload must be a JSON object"]);
  }
  const eventId = normalizeUuid((parsed as { event_id?: unknown }).event_id);
  const payload = encoder.encode(text);
  return {
    headers: { event_id: eventId ?? newEventId() },
    items: [{ headers: { type: "event", length: payload.byteLength }, payload }],
  };
}

/**
 * Authenticates from the request's own carriers before the body is read, so that nothing is
 * decoded or parsed for a stranger (and a body error is counted as that project's outcome).
 * Envelope-`dsn` auth (tunnels) has to wait for the body's first line.
 */
async function preAuthenticate(c: Ctx) {
  c.set("category", "error");
  if (!hasRequestAuth(c.req.raw)) return;
  c.set("project", await authenticateSentry(c.req.raw, c.env, c.req.param("projectId")!, undefined));
}

type Authenticated = [ProjectRecord, Envelope];

/** How much of a tunnel's body is decoded, looking for the envelope header, before authentication. */
const MAX_TUNNEL_HEADER_BYTES = 64 * 1024;

/** Reads and parses an envelope body; authenticated (tunnel `dsn` included) before any item is parsed. */
async function readEnvelope(c: Ctx): Promise<Authenticated> {
  let bytes: Uint8Array;
  let project: ProjectRecord;
  let head: ReturnType<typeof parseEnvelopeHeader>;
  const carried = c.get("project");
  if (carried) {
    bytes = await readBody(c.req.raw, { limit: MAX_ENVELOPE_BYTES, what: "envelope" });
    head = parseEnvelopeHeader(bytes);
    // With a request carrier (already authenticated by preAuthenticate), an envelope dsn must
    // agree with it: check both together; without one, the carrier's project stands.
    project = head.headers.dsn
      ? await authenticateSentry(c.req.raw, c.env, c.req.param("projectId")!, head.headers.dsn)
      : carried;
  } else {
    // A tunnel: the dsn is in the envelope header. Only that first line is decoded before the
    // sender is known; the rest (up to 20 MiB decoded) only for a project's own key.
    const raw = await readRawBody(c.req.raw, { limit: MAX_ENVELOPE_BYTES, what: "envelope" });
    const first = parseEnvelopeHeader(await readFirstLine(raw, MAX_TUNNEL_HEADER_BYTES));
    project = await authenticateSentry(c.req.raw, c.env, c.req.param("projectId")!, first.headers.dsn);
    c.set("project", project); // a decode error from here on is this project's outcome
    bytes = await decodeRaw(raw);
    head = parseEnvelopeHeader(bytes);
  }
  c.set("project", project);
  // Relay bounds bytes, not items; every item costs Sluice a stored record, so parsing stops at
  // the item cap (413) instead of building a million-item list first.
  return [project, parseEnvelopeItems(bytes, head, { maxItems: MAX_ITEMS_PER_ENVELOPE })];
}

/** The store endpoint has no envelope to carry a dsn: a stranger is refused before a byte is read. */
async function readStoreEvent(c: Ctx): Promise<Authenticated> {
  c.set("category", "error");
  const project = await authenticateSentry(c.req.raw, c.env, c.req.param("projectId")!, undefined);
  c.set("project", project);
  const bytes = await readBody(c.req.raw, { limit: SLUICE_LIMITS.maxEventSize, what: "event" });
  return [project, await storeBodyToEnvelope(bytes)];
}

async function ingest(c: Ctx, [project, envelope]: Authenticated) {
  checkEnvelopeConstraints(envelope);
  checkEnvelopeLimits(envelope);
  const client = clientInfo(c.req.raw, c.env);
  const receivedAt = Date.now();
  const candidates = toCandidates(envelope, {
    projectId: project.id,
    client,
    receivedAt,
    policy: itemPolicy(project),
  });
  const admission = await admit(c.env, (p) => c.executionCtx.waitUntil(p), project, client, candidates);
  await storeAdmittedBinaries(candidates, admission.accepted, c.env.BLOBS);
  const kindOf = new Map(candidates.map((cand) => [cand.item, cand.kind]));
  const byKind = new Map<QueueKind, typeof admission.accepted>();
  for (const item of admission.accepted) {
    const kind = kindOf.get(item) ?? "telemetry";
    const list = byKind.get(kind);
    if (list) list.push(item);
    else byKind.set(kind, [item]);
  }
  // Drop outcomes ride with the first queue message (or alone on the telemetry queue).
  let outcomes = admission.outcomes;
  const sends: Promise<void>[] = [];
  for (const [kind, items] of byKind) {
    sends.push(enqueue(c.env as never, kind, items, outcomes));
    outcomes = [];
  }
  if (outcomes.length > 0) sends.push(enqueue(c.env as never, "telemetry", [], outcomes));
  await Promise.all(sends);

  const headers = rateLimitHeaders(admission.limits);
  if (candidates.length > 0 && admission.accepted.length === 0 && admission.limits.length > 0) {
    return c.json({ detail: "event submission rejected with_reason: RateLimited", causes: [] }, 429, headers);
  }
  const eventId = envelopeEventId(envelope);
  return c.json(
    eventId && candidates.some((x) => x.item.eventId === eventId) ? { id: eventId } : {},
    200,
    headers,
  );
}

export const sentryRoutes = new Hono<EdgeApp>({ strict: false })
  .post("/api/:projectId{[0-9]+}/envelope", async (c) => {
    await preAuthenticate(c);
    return ingest(c, await readEnvelope(c));
  })
  .post("/api/:projectId{[0-9]+}/store", async (c) => ingest(c, await readStoreEvent(c)));
