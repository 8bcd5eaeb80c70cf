// Dead-letter queue consumer: records every message that could not be processed (with the reason
// when the sender gave one) in D1, where the API lists it and `npm run dlq:replay` re-sends it.

import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { jsonChunks } from "../../shared/json-chunks";

export async function recordDeadLetters(
  batch: MessageBatch<unknown>,
  env: { DB: D1Database },
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
  for (const chunk of jsonChunks(rows))
    await orm.run(sql`INSERT INTO dead_letters (id, queue, reason, body, attempts, created_at)
    SELECT value->>'id', value->>'queue', value->>'reason', value->>'body', value->>'attempts', ${Date.now()}
    FROM json_each(${chunk}) WHERE true ON CONFLICT DO NOTHING`);
  batch.ackAll();
}
