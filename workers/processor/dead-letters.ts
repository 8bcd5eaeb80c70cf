// Dead-letter queue consumer: records every message that could not be processed (with the reason
// when the sender gave one) in D1, where the API lists it and `npm run dlq:replay` re-sends it.
// If D1 itself is failing, the records go to R2 (dead-letters/<day>/<id>.json) instead: the DLQ is
// the last stop, and its messages are deleted after their own retries, so they must land somewhere.

import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { jsonChunks } from "../../shared/json-chunks";

export async function recordDeadLetters(
  batch: MessageBatch<unknown>,
  env: { DB: D1Database; BLOBS: R2Bucket },
): Promise<void> {
  const orm = drizzle(env.DB);
  const rows = batch.messages.map((msg) => {
    let parsed: unknown = msg.body;
    if (typeof parsed === "string") {
      try {
        parsed = JSON.parse(parsed);
      } catch {
        /* keep the raw text */
      }
    }
    const note = (parsed as { deadLetter?: { queue?: string; reason?: string } })?.deadLetter;
    return {
      id: msg.id,
      queue: note?.queue ?? "unknown",
      reason: note?.reason ?? "exhausted retries",
      body: typeof msg.body === "string" ? msg.body : JSON.stringify(msg.body),
      attempts: msg.attempts,
    };
  });
  try {
    for (const chunk of jsonChunks(rows))
      await orm.run(sql`INSERT INTO dead_letters (id, queue, reason, body, attempts, created_at)
      SELECT value->>'id', value->>'queue', value->>'reason', value->>'body', value->>'attempts', ${Date.now()}
      FROM json_each(${chunk}) WHERE true ON CONFLICT DO NOTHING`);
  } catch (err) {
    console.error(
      JSON.stringify({ msg: "dead letters not recorded in D1; writing them to R2", error: String(err) }),
    );
    const day = new Date().toISOString().slice(0, 10);
    // If R2 fails too, this throws and the queue retries the batch.
    await Promise.all(
      rows.map((row) =>
        env.BLOBS.put(
          `dead-letters/${day}/${row.id}.json`,
          JSON.stringify({ ...row, createdAt: Date.now() }),
        ),
      ),
    );
  }
  batch.ackAll();
}
