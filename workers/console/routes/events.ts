// Event detail: the canonical event and the payload as received (PII-scrubbed), read from its R2
// segment with one range GET; and the raw payload as a download.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { attachments, events } from "../../../shared/db/schema";
import type { CanonicalEvent } from "../../../shared/event";
import { type NormalizeSubject, normalizeStored } from "../../../shared/normalize";
import { type RecordHeader, readRecord } from "../../../shared/storage/segments";
import { EventParams, EventSummarySchema, errorResponses, json } from "../schemas";
import { validationHook } from "../validation";
import { eventSummary } from "./groups";

export const eventRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

async function loadEvent(env: ConsoleEnv, projectId: string, eventId: string) {
  const [row] = await drizzle(env.DB)
    .select()
    .from(events)
    .where(and(eq(events.projectId, Number(projectId)), eq(events.eventId, eventId)))
    .limit(1);
  if (!row) return null;
  const record = await readRecord(env.BLOBS, row.segmentKey, {
    offset: row.segmentOffset,
    length: row.segmentLength,
  });
  return { row, record };
}

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
    const found = await loadEvent(c.env, id, eventId);
    if (!found) return c.json({ error: "event not found" }, 404);
    if (!found.record) return c.json({ error: "event payload not found (expired or deleted)" }, 404);
    const text = decoder.decode(found.record.payload);
    let raw: unknown = text;
    try {
      raw = JSON.parse(text);
    } catch {
      /* not JSON: return the text */
    }
    const atts = await drizzle(c.env.DB)
      .select()
      .from(attachments)
      .where(and(eq(attachments.projectId, Number(id)), eq(attachments.eventId, eventId)));
    return c.json(
      {
        event: canonical(found.record.header, text),
        raw,
        summary: eventSummary(found.row),
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
    const found = await loadEvent(c.env, id, eventId);
    if (!found?.record) return c.json({ error: "event not found" }, 404);
    return c.body(found.record.payload as unknown as ArrayBuffer, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${eventId}.json"`,
    }) as never;
  },
);
