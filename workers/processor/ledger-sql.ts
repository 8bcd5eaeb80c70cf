// SQL of the message ledger (d1-writes.ts): one ledger row per batch, shard and send-time slice
// instead of one per message (D1 bills every row written). A row's id is the slice (the first 10
// characters of its messages' ids: their send time in hex, 256 ms) then `:<batch id>`, and `ids`
// lists the messages it applied. Its insert keeps only messages no row of the slice holds yet, in
// the same transaction as the aggregates; every aggregate row carries the id of the message it came
// from and counts only if this batch's row of that slice lists it. A redelivered message therefore
// adds nothing, and a look-up reads one primary-key range per slice, never the whole ledger.

import { type SQL, sql } from "drizzle-orm";

const SLICE = 10;

/** The send-time slice of a message id (its ledger rows' id prefix). */
export const sliceOf = (messageId: string) => messageId.slice(0, SLICE);

/** Counts only rows whose message this batch recorded in the ledger (see the header). */
export const guard = (batchId: string, mid: SQL) =>
  sql`CROSS JOIN message_ledger l ON l.id = substr(${mid}, 1, ${SLICE}) || ':' || ${batchId} AND l.batch_id = ${batchId}
      AND ${mid} IN (SELECT value FROM json_each(l.ids))`;

/** One ledger row per slice of `messageIds`, listing those no earlier row of the slice holds. */
export function ledgerStatements(batchId: string, now: number, messageIds: string[]): SQL[] {
  const bySlice = new Map<string, string[]>();
  for (const id of messageIds) {
    const s = sliceOf(id);
    (bySlice.get(s) ?? bySlice.set(s, []).get(s)!).push(id);
  }
  return [...bySlice].map(
    ([slice, ids]) => sql`INSERT INTO message_ledger (id, batch_id, applied_at, ids)
      SELECT ${`${slice}:${batchId}`}, ${batchId}, ${now}, json_group_array(j.value)
      FROM json_each(${JSON.stringify(ids)}) j
      WHERE NOT EXISTS (SELECT 1 FROM message_ledger p CROSS JOIN json_each(p.ids) k
        WHERE p.id >= ${`${slice}:`} AND p.id < ${`${slice};`} AND k.value = j.value)
      HAVING count(*) > 0`,
  );
}

/** Which of `ids` some ledger row of this database lists (one primary-key range per slice). */
export async function ledgerHolds(db: D1Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const slices = [...new Set(ids.map(sliceOf))];
  const rows = await db
    .prepare(
      `SELECT k.value AS id FROM json_each(?1) s
         CROSS JOIN message_ledger p ON p.id >= s.value || ':' AND p.id < s.value || ';'
         CROSS JOIN json_each(p.ids) k
       WHERE k.value IN (SELECT value FROM json_each(?2))`,
    )
    .bind(JSON.stringify(slices), JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}

/** Sums `n` per key and message in memory, so each (key, message) is one JSON row. */
export function tally<T extends object>(
  map: Map<string, T & { n: number }>,
  key: string,
  mid: string,
  row: T,
  n = 1,
) {
  const k = `${key}\u0000${mid}`;
  const cur = map.get(k);
  if (cur) cur.n += n;
  else map.set(k, { ...row, mid, n });
}
