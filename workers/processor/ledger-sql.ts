// SQL of the message ledger (d1-writes.ts): one ledger row per batch, shard and send-time slice
// instead of one per message (D1 bills every row written). A row's id is the slice (the first 10
// characters of its messages' ids: their send time in hex, 256 ms) then `:~<batch id>`, and `ids`
// lists the messages it applied, one entry per project's share of a message (`<id>@<project>`,
// shard-split.ts), each without the slice its row id already carries (a third of an
// edge-made id: the ledger is most of what a metadata shard holds, see the capacity plan). Its
// insert keeps only messages no row of the slice holds yet, in the same transaction as the
// aggregates; every aggregate row carries the id of the message it came from and counts only if
// this batch's row of that slice lists it. A redelivered message therefore adds nothing, and a
// look-up reads one primary-key range per slice, never the whole ledger.
//
// Rows written before ids were listed without their slice (`<slice>:<batch id>`, batch ids are hex,
// never `~`) list whole ids: look-ups test each row in its own form, so a message applied by either
// kind of row is held until retention prunes the old ones (the queue's retention, 4 days).

import { type SQL, sql } from "drizzle-orm";

const SLICE = 10;
/** After the slice's `:`, marks a row whose `ids` list each id without its slice. */
const SHORT = "~";

/** The send-time slice of a message id (its ledger rows' id prefix). */
export const sliceOf = (messageId: string) => messageId.slice(0, SLICE);
const rowIdOf = (slice: string, batchId: string) => `${slice}:${SHORT}${batchId}`;

/**
 * Message ids as the ledger keeps them: `"`, `\`, `%`, `,`, `@` (which ends a message id in a share
 * key) and anything outside printable ASCII are %-escaped (deterministic, so a redelivery maps to the same id; edge-made ids never change).
 * The ledger then finds an id in a row's `ids` by plain substring (`instr` of its JSON string),
 * which reads no rows, where json_each would make D1 bill one row read per id of the row: with no
 * quote in an entry, `"<entry>"` can only match a whole element, except for the entry `,`, which
 * would match the separator between any two elements (hence `,` escaped: a row lists an id
 * without its slice, so an id of 11 characters ending in `,` would have that entry).
 */
export const ledgerId = (id: string) =>
  id.replace(/[%"\\,@]|[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/**
 * What one batch's ledger rows on one shard are to admit: the messages it applies there (those no
 * earlier ledger row held when the batch looked), and the ids of the rows it writes for them.
 */
export interface LedgerScope {
  batchId: string;
  /** The messages the batch applies on the shard (ids as the ledger keeps them). */
  messages: ReadonlySet<string>;
  /** JSON array of the batch's ledger row ids on the shard (one per send-time slice). */
  rowIds: string;
}

export function ledgerScope(batchId: string, messageIds: string[]): LedgerScope {
  return {
    batchId,
    messages: new Set(messageIds),
    rowIds: JSON.stringify([...new Set(messageIds.map((id) => rowIdOf(sliceOf(id), batchId)))]),
  };
}

/**
 * The items an aggregate may count: those of messages the batch applies on this shard. An item of
 * a message an earlier batch applied there (a redelivery, or a message retried for another shard's
 * sake) adds nothing, so it is left out before the SQL, and the guard below only has to settle races.
 */
export const admitted = <T extends { messageId: string }>(scope: LedgerScope, refs: T[]): T[] =>
  refs.filter((r) => scope.messages.has(r.messageId));

/**
 * The condition (for a WHERE) that a row's message is one this batch recorded in the ledger (see the header). Usually the
 * ledger insert admitted every message the batch meant to apply (its rows hold as many ids as the
 * scope has messages): one look-up per statement, which SQLite evaluates once, settles it. Only
 * when a concurrent delivery of a message got there first is each row's message looked up in the
 * batch's ledger row of its slice (a substring test of the row's ids).
 */
export const guard = (scope: LedgerScope, mid: SQL) =>
  sql`((${scope.messages.size} > 0 AND (SELECT coalesce(sum(json_array_length(a.ids)), 0)
        FROM message_ledger a WHERE a.id IN (SELECT value FROM json_each(${scope.rowIds}))) = ${scope.messages.size})
      OR EXISTS (SELECT 1 FROM message_ledger l
        WHERE l.id = substr(${mid}, 1, ${SLICE}) || ${`:${SHORT}`} || ${scope.batchId} AND l.batch_id = ${scope.batchId}
          AND instr(l.ids, json_quote(substr(${mid}, ${SLICE + 1}))) > 0))`;

/**
 * Whether a ledger row lists message id `j.value`: a row of its slice (a primary-key range) names
 * it in the row's own form, without the slice after `:~`, whole in a row of the old form.
 */
const HELD = `EXISTS (SELECT 1 FROM message_ledger p
  WHERE p.id >= substr(j.value, 1, ${SLICE}) || ':' AND p.id < substr(j.value, 1, ${SLICE}) || ';'
    AND instr(p.ids, json_quote(CASE WHEN substr(p.id, length(substr(j.value, 1, ${SLICE})) + 2, 1) = '${SHORT}'
      THEN substr(j.value, ${SLICE + 1}) ELSE j.value END)) > 0)`;

/** One ledger row per slice of `messageIds`, listing those no earlier row of the slice holds. */
export function ledgerStatements(batchId: string, now: number, messageIds: string[]): SQL[] {
  const bySlice = new Map<string, string[]>();
  for (const id of messageIds) {
    const s = sliceOf(id);
    (bySlice.get(s) ?? bySlice.set(s, []).get(s)!).push(id);
  }
  return [...bySlice].map(
    ([slice, ids]) => sql`INSERT INTO message_ledger (id, batch_id, applied_at, ids)
      SELECT ${rowIdOf(slice, batchId)}, ${batchId}, ${now}, json_group_array(substr(j.value, ${SLICE + 1}))
      FROM json_each(${JSON.stringify(ids)}) j
      WHERE NOT ${sql.raw(HELD)}
      HAVING count(*) > 0`,
  );
}

/** Which of `ids` some ledger row of this database lists (one primary-key range per slice). */
export async function ledgerHolds(db: D1Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .prepare(`SELECT j.value AS id FROM json_each(?1) j WHERE ${HELD}`)
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(rows.results.map((r) => r.id));
}

/**
 * Sums `n` per key and message in memory, so each (key, message) is one JSON row; returns that
 * row, for a caller that keeps more than a sum in it.
 */
export function tally<T extends object>(
  map: Map<string, T & { n: number }>,
  key: string,
  mid: string,
  row: T,
  n = 1,
): T & { n: number } {
  const k = `${key}\u0000${mid}`;
  const cur = map.get(k);
  if (cur) {
    cur.n += n;
    return cur;
  }
  const added = { ...row, mid, n };
  map.set(k, added);
  return added;
}
