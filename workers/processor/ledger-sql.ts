// SQL helpers of the per-message ledger (d1-writes.ts): every aggregate row carries the id of the
// queue message it came from, and counts only if that message's ledger row was inserted by this
// very batch (this transaction), so a redelivered message adds nothing.

import { type SQL, sql } from "drizzle-orm";

/** Counts only rows whose message was recorded in the ledger by this batch (see the header). */
export const guard = (batchId: string, mid: SQL) =>
  sql`CROSS JOIN message_ledger l ON l.id = ${mid} AND l.batch_id = ${batchId}`;

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
