// Sentry ingestion routes: POST /api/:projectId/envelope/ (every item type; unknown ones kept) and
// the legacy POST /api/:projectId/store/ (one JSON event). Decode (gzip/deflate, limits on the
// decoded bytes), parse, authenticate against the path's project, check Relay's size limits and
// envelope rules, admit (filters, sampling, quotas), enqueue, and answer 200 {"id"} before any heavy
// work. Rate-limited items are stripped; 429 only when every item was limited.

import type { Context } from "hono";
import { Hono } from "hono";
import { badRequest, tooLarge } from "../../../shared/http/errors";
import { decodeUtf8, readBody } from "../../../shared/http/read-body";
import { newEventId, normalizeUuid } from "../../../shared/ids";
import type { QueueKind } from "../../../shared/queue-message";
import { type Envelope, parseEnvelope } from "../../../shared/sentry/envelope";
import {
  checkEnvelopeConstraints,
  checkEnvelopeLimits,
  MAX_ENVELOPE_BYTES,
} from "../../../shared/sentry/limits";
import { formatRateLimits, type RateLimit as SentryRateLimit } from "../../../shared/sentry/rate-limits";
import { admit, type RateLimit } from "../admission";
import { clientInfo } from "../client-info";
import { enqueue } from "../enqueue";
import { itemPolicy } from "../project-cache";
import type { EdgeApp } from "../types";
import { authenticateSentry, hasRequestAuth } from "./auth";
import { envelopeEventId, storeAdmittedBinaries, toCandidates } from "./envelope-items";

type Ctx = Context<EdgeApp>;

/** Items per envelope (SDKs send a handful; client-side buffers cap at 30–100). */
export const MAX_ITEMS_PER_ENVELOPE = 1000;

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
    // Very old SDKs send base64(zlib(json)) (Relay's store endpoint accepts it too).
    try {
      const bin = Uint8Array.from(atob(trimmed.trim()), (ch) => ch.charCodeAt(0));
      const inflated = new Response(new Blob([bin]).stream().pipeThrough(new DecompressionStream("deflate")));
      text = await inflated.text();
    } catch {
      throw badRequest("invalid event", ["body is neither JSON nor base64-encoded zlib JSON"]);
    }
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
 * Authenticates from the request's own carriers before the body is read (so that a body error is
 * counted as that project's outcome); envelope-`dsn` auth (tunnels) has to wait for the body.
 */
async function preAuthenticate(c: Ctx) {
  c.set("category", "error");
  if (!hasRequestAuth(c.req.raw)) return;
  c.set("project", await authenticateSentry(c.req.raw, c.env, c.req.param("projectId")!, undefined));
}

async function ingest(c: Ctx, envelope: Envelope) {
  const projectId = c.req.param("projectId")!;
  // With a request carrier, the envelope dsn (if any) must agree with it: check both together.
  const project = await authenticateSentry(c.req.raw, c.env, projectId, envelope.headers.dsn);
  c.set("project", project);
  checkEnvelopeConstraints(envelope);
  checkEnvelopeLimits(envelope);
  // Relay bounds bytes, not items; every item costs Sluice a stored record and a row, so a
  // 500 KB envelope of 20,000 empty items is refused instead of amplified.
  if (envelope.items.length > MAX_ITEMS_PER_ENVELOPE) {
    throw tooLarge(
      `envelope exceeded size limits: ${envelope.items.length} items, at most ${MAX_ITEMS_PER_ENVELOPE}`,
    );
  }
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
    const bytes = await readBody(c.req.raw, { limit: MAX_ENVELOPE_BYTES, what: "envelope" });
    return ingest(c, parseEnvelope(bytes));
  })
  .post("/api/:projectId{[0-9]+}/store", async (c) => {
    await preAuthenticate(c);
    const bytes = await readBody(c.req.raw, { limit: MAX_ENVELOPE_BYTES, what: "event" });
    return ingest(c, await storeBodyToEnvelope(bytes));
  });
