// Event detail: the canonical event and the payload as received (PII-scrubbed), read from its R2
// segment with one range GET; and the raw payload as a download. The segment pointer comes from
// the event index (the search backend); items without a search document (RUM, sessions, unknown
// item types) have a pointer row in D1 instead. An event the indexer has not reached yet is a 404.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { attachments, events } from "../../../shared/db/schema";
import type { CanonicalEvent } from "../../../shared/event";
import { ClientError } from "../../../shared/http/errors";
import { type NormalizeSubject, normalizeStored } from "../../../shared/normalize";
import { createSearchBackend } from "../../../shared/search";
import type { IndexedEvent } from "../../../shared/search/backend";
import { type RecordHeader, readRecord } from "../../../shared/storage/segments";
import { metaDb } from "../projects-store";
import { EventParams, EventSummarySchema, errorResponses, json } from "../schemas";
import { validationHook } from "../validation";
import { eventSummary } from "./groups";

export const eventRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

type EventRow = typeof events.$inferSelect;

/** A D1 pointer row in the event index's shape. */
function fromRow(r: EventRow): IndexedEvent {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    eventId: r.eventId,
    groupId: r.groupId,
    category: r.category,
    occurredAt: iso(r.occurredAt),
    receivedAt: iso(r.receivedAt),
    type: r.type,
    message: r.message ?? "",
    level: r.level ?? "",
    release: r.release,
    environment: r.environment,
    user: r.userId,
    segment: { key: r.segmentKey, offset: r.segmentOffset, length: r.segmentLength },
  };
}

/** Both point look-ups (search backend by id, D1 by primary key); null when neither knows it. */
async function loadEvent(env: ConsoleEnv, projectId: string, eventId: string) {
  const [indexed, [row]] = await Promise.all([
    // An item with a D1 pointer row stays viewable while the search engine is down.
    createSearchBackend(env)
      .get(projectId, eventId)
      .catch((err: unknown) => err),
    drizzle(await metaDb(env, projectId))
      .select()
      .from(events)
      .where(and(eq(events.projectId, Number(projectId)), eq(events.eventId, eventId)))
      .limit(1),
  ]);
  if (indexed instanceof Error && !row) throw indexed;
  const hit = indexed instanceof Error ? null : (indexed as IndexedEvent | null);
  const entry = hit?.segment ? hit : row ? fromRow(row) : hit;
  if (!entry?.segment) return null;
  const record = await readRecord(
    env.BLOBS,
    entry.segment.key,
    { offset: entry.segment.offset, length: entry.segment.length },
    { eventId, projectId },
  );
  return { entry, record };
}

/** The event, or a response: 404 unknown / not yet indexed, 503 when the search engine is down. */
async function findEvent(env: ConsoleEnv, projectId: string, eventId: string) {
  try {
    return await loadEvent(env, projectId, eventId);
  } catch (err) {
    if (err instanceof ClientError) throw err;
    console.warn(JSON.stringify({ msg: "event index unavailable", error: String(err) }));
    return "unavailable" as const;
  }
}

const unavailable = { error: "event index (search backend) unavailable, try again shortly" };

const decoder = new TextDecoder();

/** The canonical event, rebuilt from the stored payload exactly as the processor built it. */
function canonical(header: RecordHeader, text: string): CanonicalEvent | null {
  try {
    return normalizeStored(header as unknown as NormalizeSubject, text);
  } catch {
    return null;
  }
}

eventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/events/{eventId}",
    request: { params: EventParams },
    responses: {
      200: json(
        z.object({
          event: z.any().openapi({ description: "The canonical event (shared/event.ts)" }),
          raw: z.any().openapi({ description: "The payload as received (JSON when it parses, else text)" }),
          summary: EventSummarySchema,
          attachments: z.array(
            z.object({ name: z.string(), size: z.number(), contentType: z.string().nullable() }),
          ),
        }),
        "One event",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, eventId } = c.req.valid("param");
    const found = await findEvent(c.env, id, eventId);
    if (found === "unavailable") return c.json(unavailable, 503, { "Retry-After": "10" });
    if (!found) return c.json({ error: "event not found (or not indexed yet)" }, 404);
    if (!found.record) return c.json({ error: "event payload not found (expired or deleted)" }, 404);
    const text = decoder.decode(found.record.payload);
    let raw: unknown = text;
    try {
      raw = JSON.parse(text);
    } catch {
      /* not JSON: return the text */
    }
    const atts = await drizzle(await metaDb(c.env, id))
      .select()
      .from(attachments)
      .where(and(eq(attachments.projectId, Number(id)), eq(attachments.eventId, eventId)));
    return c.json(
      {
        event: canonical(found.record.header, text),
        raw,
        summary: eventSummary(found.entry),
        attachments: atts.map((a) => ({ name: a.name, size: a.size, contentType: a.contentType })),
      },
      200,
    );
  },
);

eventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/events/{eventId}/raw",
    request: { params: EventParams },
    responses: {
      200: {
        content: { "application/octet-stream": { schema: z.string() } },
        description: "The stored payload bytes",
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, eventId } = c.req.valid("param");
    const found = await findEvent(c.env, id, eventId);
    if (found === "unavailable") return c.json(unavailable, 503, { "Retry-After": "10" });
    if (!found?.record) return c.json({ error: "event not found (or not indexed yet)" }, 404);
    return c.body(found.record.payload as unknown as ArrayBuffer, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${eventId}.json"`,
    }) as never;
  },
);
