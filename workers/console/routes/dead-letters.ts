// Dead letters: messages the pipeline could not store (poison input, or retries exhausted), as
// recorded by the processor's DLQ consumer. Replay re-sends each body to the queue its shape
// belongs to (ingest batches by item kind, search documents to the index queue); writers are
// idempotent, so replaying something that was in fact stored changes nothing.
// Dead letters the processor could not record in D1 sit in R2 (dead-letters/<id>.json, described
// by custom metadata): they are listed beside the D1 ones, and once replayed they move to D1 as
// replayed rows holding a note (D1 refused the body once). A body too large for one queue message
// is re-sent in parts, large payloads through claim checks.
//
// A dead letter is claimed (marked replayed) before it is sent, so two replays at once, or one run
// again after a crash, never re-send it; a failed send releases the claim. Re-sending is guarded
// by the processor's ledger too, but only for the queue's retention (4 days), and not at all for
// a share whose `counted` mark could not be read when it was dead-lettered once the ledger forgot it.

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { deadLetters } from "../../../shared/db/schema";
import type { IndexBatch, IngestBatch, IngestItem, QueueKind } from "../../../shared/queue-message";
import { type FallbackRecord, listFallbackEntries } from "../../../shared/storage/dead-letter-store";
import { errorResponses, json } from "../schemas";
import { validationHook } from "../validation";

export const deadLetterRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    reason: z.string(),
    attempts: z.number(),
    createdAt: z.string(),
    replayedAt: z.string().nullable(),
    size: z.number(),
    projectId: z.number().nullable(),
    /** Where the dead letter is kept: D1, or R2 when D1 refused it. */
    storage: z.enum(["d1", "r2"]),
  })
  .openapi("DeadLetter");

/** The original message body inside a dead letter (the processor wraps poison with a reason). */
export function unwrap(body: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const wrapped = parsed as { deadLetter?: unknown; body?: unknown };
  return wrapped && typeof wrapped === "object" && wrapped.deadLetter && "body" in wrapped
    ? wrapped.body
    : parsed;
}

function kindOf(batch: IngestBatch): QueueKind {
  const first = batch.items?.[0];
  if (!first) return "telemetry";
  if (first.category === "rum") return "rum";
  if (first.protocol === "raygun" || first.itemType === "event") return "errors";
  return "telemetry";
}

/** The queue binding a replayed body goes to, or null when the body is not something we can re-send. */
export function replayTarget(env: ConsoleEnv, body: unknown): Queue | null {
  const b =
    typeof body === "string"
      ? (() => {
          try {
            return JSON.parse(body);
          } catch {
            return null;
          }
        })()
      : body;
  if (!b || typeof b !== "object") return null;
  const q = env as unknown as Record<string, Queue | undefined>;
  if (Array.isArray((b as { docs?: unknown }).docs)) return q.Q_INDEX ?? null;
  if (Array.isArray((b as { items?: unknown }).items))
    return q[`Q_${kindOf(b as IngestBatch).toUpperCase()}_0`] ?? null;
  return null;
}

/** Queue messages carry at most 128 KB; a replayed body is cut into messages below this. */
const MAX_MESSAGE_BYTES = 100_000;
/** An item payload above this travels through R2 (a claim check), as the edge sends it. */
const CLAIM_CHECK_BYTES = 64_000;

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** Splits `list` into runs whose JSON fits in `max` bytes (one oversized element alone). */
function chunks<T>(list: T[], max: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let size = 0;
  for (const x of list) {
    const n = bytes(JSON.stringify(x)) + 1;
    if (run.length > 0 && size + n > max) {
      out.push(run);
      run = [];
      size = 0;
    }
    run.push(x);
    size += n;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/**
 * Re-sends a dead letter's body to `target`. A body too large for one queue message (a dead letter
 * kept in R2 because D1 refused it, say) is cut into several: large item payloads go to R2 as claim
 * checks, as the edge does, and the items (or search documents) are split across messages.
 */
async function resend(env: ConsoleEnv, target: Queue, body: unknown): Promise<void> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (bytes(text) <= MAX_MESSAGE_BYTES) {
    await target.send(text, { contentType: "text" });
    return;
  }
  const parsed = (typeof body === "string" ? JSON.parse(body) : body) as Partial<IngestBatch & IndexBatch>;
  let messages: string[];
  if (Array.isArray(parsed.docs)) {
    messages = chunks(parsed.docs, MAX_MESSAGE_BYTES).map((docs) => JSON.stringify({ ...parsed, docs }));
  } else {
    const items: IngestItem[] = [];
    for (const item of parsed.items ?? []) {
      if (typeof item.payload === "string" && bytes(item.payload) > CLAIM_CHECK_BYTES) {
        const blobKey = `claims/${item.projectId}/${item.eventId}/replay-${crypto.randomUUID()}`;
        await env.BLOBS.put(blobKey, item.payload);
        const { payload: _payload, ...rest } = item;
        items.push({ ...rest, blobKey });
      } else items.push(item);
    }
    // Every part gets an id of its own below the body's (`<id>:replay-<n>`, the first part too): the
    // processor's ledger takes an entry of the body's id as "applied" for every part (shard-split.ts
    // ledgerKeys), so a part must never write that entry itself, or the parts after it would count
    // nothing. Deterministic, so a replay re-run counts no part twice.
    const base = typeof parsed.id === "string" && parsed.id !== "" ? parsed.id : null;
    messages = chunks(items, MAX_MESSAGE_BYTES).map((run, i) =>
      JSON.stringify({
        ...parsed,
        id: base === null ? undefined : `${base}:replay-${i}`,
        items: run,
        outcomes: i === 0 ? parsed.outcomes : undefined,
      }),
    );
  }
  const tooBig = messages.find((m) => bytes(m) > 120_000);
  if (tooBig !== undefined)
    throw new Error(`a part of ${bytes(tooBig)} bytes is too large for a queue message`);
  // One at a time (a sendBatch carries at most 256 KB); deterministic ids, so a replay that
  // stopped half-way and is run again changes nothing for the parts already applied.
  for (const m of messages) await target.send(m, { contentType: "text" });
}

deadLetterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/dead-letters",
    request: {
      query: z.object({
        pending: z.enum(["true", "false"]).optional(),
        limit: z.coerce.number().int().min(1).max(500).optional(),
      }),
    },
    responses: {
      200: json(z.object({ deadLetters: z.array(DeadLetterSchema) }), "Recorded dead letters, newest first"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { pending, limit = 100 } = c.req.valid("query");
    const rows = await drizzle(c.env.DB)
      .select()
      .from(deadLetters)
      .where(pending === "true" ? isNull(deadLetters.replayedAt) : undefined)
      .orderBy(desc(deadLetters.createdAt))
      .limit(limit);
    const listed = [
      ...rows.map((r) => ({
        id: r.id,
        queue: r.queue,
        reason: r.reason,
        attempts: r.attempts,
        createdAt: r.createdAt,
        replayedAt: r.replayedAt ? new Date(r.replayedAt).toISOString() : null,
        size: r.body.length,
        projectId: r.projectId,
        storage: "d1" as const,
      })),
      // R2 holds only pending ones: a replayed fallback moves to D1.
      ...(await listFallbackEntries(c.env.BLOBS, limit)).map(({ key: _key, ...f }) => ({
        ...f,
        replayedAt: null,
        storage: "r2" as const,
      })),
    ]
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit);
    return c.json(
      { deadLetters: listed.map((d) => ({ ...d, createdAt: new Date(d.createdAt).toISOString() })) },
      200,
    );
  },
);

deadLetterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/dead-letters/replay",
    request: {
      body: {
        content: {
          "application/json": {
            schema: z.object({ ids: z.array(z.string().max(100)).max(500).optional() }).strict(),
          },
        },
        required: false,
      },
    },
    responses: {
      200: json(
        z.object({
          replayed: z.number(),
          skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
        }),
        "Re-sent dead letters (all pending ones when no ids are given)",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const ids = (c.req.valid("json") as { ids?: string[] } | undefined)?.ids;
    const db = drizzle(c.env.DB);
    const rows = await db
      .select()
      .from(deadLetters)
      .where(and(isNull(deadLetters.replayedAt), ids ? inArray(deadLetters.id, ids) : undefined))
      .limit(500);
    const skipped: { id: string; reason: string }[] = [];
    let replayed = 0;
    for (const row of rows) {
      const body = unwrap(row.body);
      const target = replayTarget(c.env, body);
      if (!target) {
        skipped.push({ id: row.id, reason: "body is not a Sluice queue message" });
        continue;
      }
      // Claimed first: only the request whose update marks it sends it.
      const claimedAt = Date.now();
      const claimed = await db
        .update(deadLetters)
        .set({ replayedAt: claimedAt })
        .where(and(eq(deadLetters.id, row.id), isNull(deadLetters.replayedAt)))
        .returning({ id: deadLetters.id });
      if (claimed.length === 0) {
        skipped.push({ id: row.id, reason: "replayed by another request meanwhile" });
        continue;
      }
      try {
        await resend(c.env, target, body);
      } catch (err) {
        // Not (wholly) sent: pending again, so a later replay sends it (parts already sent count
        // once, their ids being deterministic).
        await db
          .update(deadLetters)
          .set({ replayedAt: null })
          .where(and(eq(deadLetters.id, row.id), eq(deadLetters.replayedAt, claimedAt)))
          .catch((e) =>
            console.error(
              JSON.stringify({ msg: "dead letter claim not released", id: row.id, error: String(e) }),
            ),
          );
        skipped.push({ id: row.id, reason: `not re-sent: ${String(err).slice(0, 200)}` });
        continue;
      }
      replayed++;
    }
    const wanted = ids ? new Set(ids) : null;
    for (const f of await listFallbackEntries(c.env.BLOBS, 500 - rows.length)) {
      if (wanted && !wanted.has(f.id)) continue;
      const obj = await c.env.BLOBS.get(f.key);
      if (!obj) continue; // replayed concurrently
      const record = (await obj.json()) as FallbackRecord;
      const body = unwrap(record.body);
      const target = replayTarget(c.env, body);
      if (!target) {
        skipped.push({ id: f.id, reason: "body is not a Sluice queue message" });
        continue;
      }
      // D1 refused this body once (that is why it is in R2): its row holds a note instead, written
      // first as the claim (as above: the request whose insert marks it replayed sends it).
      const note = JSON.stringify({ v: 1, replayedFromR2: f.key, bodyBytes: f.size });
      const claimedAt = Date.now();
      let claim: { body: string }[];
      try {
        claim = await db
          .insert(deadLetters)
          .values({
            id: record.id,
            queue: record.queue,
            reason: record.reason,
            body: note,
            attempts: record.attempts,
            createdAt: record.createdAt,
            projectId: record.projectId,
            replayedAt: claimedAt,
          })
          .onConflictDoUpdate({
            target: deadLetters.id,
            set: { replayedAt: claimedAt },
            setWhere: isNull(deadLetters.replayedAt),
          })
          .returning({ body: deadLetters.body });
      } catch (err) {
        skipped.push({
          id: f.id,
          reason: `not claimed in D1 (it stays in R2): ${String(err).slice(0, 200)}`,
        });
        continue;
      }
      if (claim.length === 0) {
        // Another request claimed it: that one sends it and removes the object.
        skipped.push({ id: f.id, reason: "replayed by another request meanwhile" });
        continue;
      }
      try {
        await resend(c.env, target, body);
      } catch (err) {
        // Released: the row goes if this claim made it, else it is pending again.
        const mine = and(eq(deadLetters.id, record.id), eq(deadLetters.replayedAt, claimedAt));
        await (claim[0]!.body === note
          ? db.delete(deadLetters).where(and(mine, eq(deadLetters.body, note)))
          : db.update(deadLetters).set({ replayedAt: null }).where(mine)
        ).catch((e) =>
          console.error(
            JSON.stringify({ msg: "dead letter claim not released", id: f.id, error: String(e) }),
          ),
        );
        skipped.push({ id: f.id, reason: `not re-sent (it stays in R2): ${String(err).slice(0, 200)}` });
        continue;
      }
      await c.env.BLOBS.delete(f.key);
      replayed++;
    }
    return c.json({ replayed, skipped }, 200);
  },
);
