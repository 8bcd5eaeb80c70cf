// Everything a processor batch writes to one metadata shard, as ONE `batch()` (one transaction): the
// ledger of the batch's queue messages (their share on this shard), aggregates (groups, group hours, RUM pages, sessions,
// outcomes) computed in memory and written once per key, and pointer rows for the few items kept
// for their own sake without a search document (segment-contents.ts). Errors and transactions get
// no row here (the search backend is their index), nor do RUM page views, sessions and client
// reports (their aggregates are what is read).
//
// Idempotency: the batch's ledger rows (one per send-time slice, ledger-sql.ts) list the messages
// no earlier row holds, and every aggregate row carries the id of the message it came from and
// counts only if this batch's ledger row lists that message, i.e. this very transaction recorded
// it. A redelivered message therefore changes nothing, and because the batch is one
// transaction, a crash can never leave a message recorded without its aggregates or vice versa.
// Rows travel as one JSON parameter read with json_each, which sidesteps D1's 100-bound-parameter
// limit and keeps each statement's SQL constant; the JSON is split into chunks of ≤ 500 KB (D1
// refuses bound strings over 2 MB). Joins are CROSS JOINs so that SQLite walks the JSON rows and
// probes primary keys, never scanning a table; the ledger guard (ledger-sql.ts) is one primary-key
// look-up per statement when the batch's ledger rows admitted every message it meant to apply.

import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { jsonChunks } from "../../shared/json-chunks";
import { hashUnit } from "../../shared/policy/sampling";
import type { OutcomeRecord } from "../../shared/queue-message";
import { BUCKET_COUNT, bucketOf } from "../../shared/rum/page-views";
import { facetStatements, feedbackStatements } from "./group-workflow";
import { groupStatements } from "./group-writes";
import { admitted, guard, type LedgerScope, ledgerScope, ledgerStatements, tally } from "./ledger-sql";
import type { Prepared } from "./prepare";
import { QUEUE_RETENTION_MS } from "./queue-retention";
import { needsPointerRow, type SegmentContents } from "./segment-contents";

export interface StoredRef {
  prepared: Prepared;
  /**
   * Its project's share of the queue message it arrived in (shard-split.ts `shareKey`): the ledger
   * key its counts hang on.
   */
  messageId: string;
  segmentKey: string;
  offset: number;
  length: number;
}

export interface D1WriteInput {
  batchId: string;
  now: number;
  /** The batch's items on this shard, in the segment (its row is written apart: writeSegmentRow). */
  segment: { key: string; bytes: number; refs: StoredRef[] } | null;
  /**
   * Every project's share of a message this batch applies here (share keys, unique), with the edge's
   * drop counts the message carries for that project.
   */
  messages: { id: string; outcomes: OutcomeRecord[] }[];
  /** More statements for the same transaction (alert rules' per-minute counts: alerts-hook.ts). */
  extra?: SQL[];
}

const DAY_MS = 86_400_000;
const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

/**
 * The most one row may add to a sum() below: D1's sum() fails on 64-bit overflow ("integer
 * overflow"), which would fail this shard's transaction and so retry the whole batch, other
 * projects' messages too. SDK counts are bounded where they are parsed (shared/sentry/items.ts);
 * this bounds every row whatever its source (edge drop counts, attachment bytes), so that a
 * statement's rows (≤ 500 KB of JSON each, a few thousand) can never sum past 2^63.
 */
const MAX_ROW_QUANTITY = 2 ** 32;
const bounded = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_ROW_QUANTITY) : 0);

export function buildStatements(input: D1WriteInput): SQL[] {
  const { batchId, now } = input;
  const statements: SQL[] = [];
  const refs = input.segment?.refs ?? [];
  // What the ledger rows below are to admit; aggregates count only items of those messages.
  const scope = ledgerScope(
    batchId,
    input.messages.map((m) => m.id),
  );
  const fresh = admitted(scope, refs);

  // The ledger comes first: every aggregate below joins on the rows it inserts.
  statements.push(
    ...ledgerStatements(
      batchId,
      now,
      input.messages.map((m) => m.id),
    ),
  );

  if (input.segment && refs.length > 0) {
    // Pointer rows only for items kept for their own sake with no search document (unknown item
    // types, payloads that could not be interpreted). Errors are found through the event index;
    // RUM page views, session updates and client reports live on as aggregates (rum_page_minutes,
    // session_minutes, outcomes), their raw records in the segment, listed by its directory.
    const pointed = refs.filter(({ prepared: p }) => needsPointerRow(p));
    const rows = pointed.map(({ prepared: p, segmentKey, offset, length }) => [
      Number(p.item.projectId),
      p.item.eventId,
      p.item.category,
      p.item.receivedAt,
      segmentKey,
      offset,
      length,
    ]);
    for (const chunk of jsonChunks(rows))
      statements.push(sql`INSERT INTO events (project_id, event_id, category, occurred_at, received_at,
        segment_key, segment_offset, segment_length, batch_id)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>3, value->>4, value->>5, value->>6, ${batchId}
      FROM json_each(${chunk}) WHERE true
      ON CONFLICT DO NOTHING`);
  }

  statements.push(...groupStatements(scope, now, fresh));
  statements.push(...facetStatements(refs), ...feedbackStatements(refs));
  statements.push(...(input.extra ?? []));
  statements.push(...rumStatements(scope, fresh));

  // Release health: session deltas per project, release, environment and minute.
  const sessionRows: unknown[] = [];
  for (const { prepared: p, messageId } of fresh)
    for (const s of p.sessions ?? [])
      sessionRows.push({
        p: Number(p.item.projectId),
        mid: messageId,
        ...s,
        // Bounded so the sums below cannot overflow (MAX_ROW_QUANTITY).
        started: bounded(s.started),
        exited: bounded(s.exited),
        errored: bounded(s.errored),
        crashed: bounded(s.crashed),
        abnormal: bounded(s.abnormal),
      });
  for (const chunk of jsonChunks(sessionRows))
    statements.push(sql`INSERT INTO session_minutes (project_id, release, environment, minute, started, exited, errored, crashed, abnormal)
      SELECT d.value->>'p', d.value->>'release', d.value->>'environment', d.value->>'minute',
        sum(d.value->>'started'), sum(d.value->>'exited'), sum(d.value->>'errored'), sum(d.value->>'crashed'), sum(d.value->>'abnormal')
      FROM json_each(${chunk}) d
      WHERE ${guard(scope, sql`d.value->>'mid'`)}
      GROUP BY 1, 2, 3, 4
      ON CONFLICT (project_id, release, environment, minute) DO UPDATE SET
        started = started + excluded.started, exited = exited + excluded.exited, errored = errored + excluded.errored,
        crashed = crashed + excluded.crashed, abnormal = abnormal + excluded.abnormal`);

  // Attachments: linked to their event, bytes in their own R2 object (idempotent by key).
  const attachmentRows = refs
    .filter(({ prepared: p }) => p.attachment)
    .map(({ prepared: p }) => ({ p: Number(p.item.projectId), ...p.attachment!, at: p.item.receivedAt }));
  for (const chunk of jsonChunks(attachmentRows))
    statements.push(sql`INSERT INTO attachments (project_id, event_id, name, blob_key, content_type, attachment_type, size, created_at)
      SELECT value->>'p', value->>'eventId', value->>'name', value->>'blobKey', value->>'contentType', value->>'attachmentType',
        value->>'size', value->>'at'
      FROM json_each(${chunk}) WHERE true
      ON CONFLICT DO NOTHING`);

  // Outcomes: "accepted" (or "invalid") per stored item, client discards, and the edge's drop counts.
  const outcomes = new Map<string, { p: number; m: number; c: string; o: string; r: string; n: number }>();
  const count = (mid: string, p: number, at: number, c: string, o: string, r: string, q: number) =>
    tally(
      outcomes,
      `${p}\u0000${minuteOf(at)}\u0000${c}\u0000${o}\u0000${r}`,
      mid,
      { p, m: minuteOf(at), c, o, r },
      bounded(q), // the insert's sum() cannot overflow (MAX_ROW_QUANTITY)
    );
  for (const { prepared: p, messageId } of fresh) {
    const pid = Number(p.item.projectId);
    const at = p.item.receivedAt;
    // Attachments are counted in bytes, as Relay's outcomes count them.
    const quantity = p.item.category === "attachment" ? p.item.size : 1;
    count(messageId, pid, at, p.item.category, p.invalid ? "invalid" : "accepted", p.invalid ?? "", quantity);
    for (const d of p.discards ?? [])
      count(messageId, pid, at, d.category, "client_discard", d.reason, d.quantity);
  }
  for (const m of input.messages)
    for (const o of m.outcomes)
      count(m.id, Number(o.projectId), o.at, o.category, o.outcome, o.reason, o.quantity);
  for (const chunk of jsonChunks([...outcomes.values()]))
    statements.push(sql`INSERT INTO outcomes (project_id, minute, category, outcome, reason, quantity)
      SELECT d.value->>'p', d.value->>'m', d.value->>'c', d.value->>'o', d.value->>'r', sum(d.value->>'n')
      FROM json_each(${chunk}) d
      WHERE ${guard(scope, sql`d.value->>'mid'`)}
      GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (project_id, minute, category, outcome, reason) DO UPDATE SET quantity = quantity + excluded.quantity`);
  return statements;
}

/** RUM page views and the load-time histogram per project, page and minute. */
function rumStatements(scope: LedgerScope, refs: StoredRef[]): SQL[] {
  const pages = new Map<
    string,
    {
      p: number;
      page: string;
      m: number;
      mid: string;
      views: number;
      count: number;
      sum: number;
      h: number[];
    }
  >();
  for (const { prepared: p, messageId } of refs) {
    for (const v of p.pageViews ?? []) {
      const m = minuteOf(p.item.receivedAt);
      const key = `${p.item.projectId}\u0000${v.page}\u0000${m}\u0000${messageId}`;
      let agg = pages.get(key);
      if (!agg)
        pages.set(
          key,
          (agg = {
            p: Number(p.item.projectId),
            page: v.page,
            m,
            mid: messageId,
            views: 0,
            count: 0,
            sum: 0,
            h: new Array(BUCKET_COUNT).fill(0),
          }),
        );
      agg.views++;
      if (v.loadMs != null && v.loadMs >= 0) {
        agg.count++;
        agg.sum += v.loadMs;
        agg.h[bucketOf(v.loadMs)]!++;
      }
    }
  }
  if (pages.size === 0) return [];
  const hSum = Array.from({ length: BUCKET_COUNT }, (_, i) => `sum(d.h->>${i})`).join(", ");
  const hMerge = Array.from(
    { length: BUCKET_COUNT },
    (_, i) => `coalesce(histogram->>${i}, 0) + (excluded.histogram->>${i})`,
  ).join(", ");
  return jsonChunks([...pages.values()]).map(
    (
      chunk,
    ) => sql`INSERT INTO rum_page_minutes (project_id, page, minute, views, load_count, load_sum_ms, histogram)
      SELECT d.p, d.page, d.m, sum(d.views), sum(d.count), sum(d.sum), json_array(${sql.raw(hSum)})
      FROM (SELECT value->>'p' AS p, value->>'page' AS page, value->>'m' AS m, value->>'mid' AS mid,
              value->>'views' AS views, value->>'count' AS count, value->>'sum' AS sum, value->'h' AS h
            FROM json_each(${chunk})) d
      WHERE ${guard(scope, sql`d.mid`)}
      GROUP BY d.p, d.page, d.m
      ON CONFLICT (project_id, page, minute) DO UPDATE SET
        views = views + excluded.views,
        load_count = load_count + excluded.load_count,
        load_sum_ms = load_sum_ms + excluded.load_sum_ms,
        histogram = json_array(${sql.raw(hMerge)})`,
  );
}

/**
 * Days until an item's share is due for retention to look at. The edge's policy says the project's
 * retention when the item was received; an item without one, or received longer ago than a queue
 * keeps a message (a dead letter replayed weeks later), may carry a retention since lowered, so it
 * is due in a day. Early is harmless: retention reads the row, keeps what its projects still keep
 * and sets the next due time from their current retention; late would keep data past it.
 */
function dueDays(item: StoredRef["prepared"]["item"], now: number): number {
  const d = item.policy?.retentionDays;
  if (!Number.isFinite(d) || !(d! > 0) || now - item.receivedAt > QUEUE_RETENTION_MS) return 1;
  return d!;
}

/**
 * The home of a segment's row: a metadata shard chosen by its key, so that rows spread evenly
 * whatever projects a batch holds.
 */
export const segmentHome = (key: string, shards: number): number =>
  Math.min(shards - 1, Math.floor(hashUnit(key) * shards));

/**
 * The segment's one row, on its home shard: per project, how many of its items the segment holds
 * and which pointer rows (on each project's own shard) retention must delete with it, and when its
 * first share expires, by the retention the edge sent with each item (retention reads the projects'
 * current retention then, and sets the next due time). No list of every event id: that would be
 * bytes per event held for the whole retention, and the segment's own directory in R2 already says
 * what it holds. One row per batch, not one per shard the batch touches: rows (and retention's
 * reads of them) would grow with the number of shards. It is written before any shard's
 * transaction (process-batch.ts), so an item a shard records never lives in an object no row names.
 */
export async function writeSegmentRow(
  db: D1Database,
  segment: { key: string; bytes: number; refs: StoredRef[] },
  now: number,
): Promise<number> {
  const contents: SegmentContents = {};
  let days = Number.POSITIVE_INFINITY;
  for (const r of segment.refs) {
    const entry = (contents[r.prepared.item.projectId] ??= { n: 0, ids: [] });
    entry.n++;
    if (needsPointerRow(r.prepared)) entry.ids.push(r.prepared.item.eventId);
    days = Math.min(days, dueDays(r.prepared.item, now));
  }
  // `shards`: no other shard holds a row of this object (rows written before this say NULL).
  const q = dialect.sqlToQuery(sql`INSERT INTO segments (key, created_at, bytes, event_count, contents,
      expires_at, shards)
    VALUES (${segment.key}, ${now}, ${segment.bytes}, ${segment.refs.length}, ${JSON.stringify(contents)},
      ${now + days * DAY_MS}, '[]')
    ON CONFLICT DO NOTHING`);
  const r = await db
    .prepare(q.sql)
    .bind(...q.params)
    .run();
  return r.meta.rows_written ?? 0;
}

const dialect = new SQLiteAsyncDialect();

export interface D1WriteResult {
  /** From D1's own `meta.rows_written` (index entries included): what D1 bills. */
  rowsWritten: number;
  statements: number;
  /** The shard's group_deltas backlog after this batch (null: the batch wrote no delta). */
  backlog: { pending: number; oldest: number } | null;
}

/** Runs the batch's statements as one D1 batch (one transaction). */
export async function writeBatch(db: D1Database, input: D1WriteInput): Promise<D1WriteResult> {
  const statements = buildStatements(input);
  if (statements.length === 0) return { rowsWritten: 0, statements: 0, backlog: null };
  // drizzle renders each statement (SQL + parameters); D1's own batch() runs them as one transaction.
  const prepared = statements.map((s) => {
    const q = dialect.sqlToQuery(s);
    return db.prepare(q.sql).bind(...q.params);
  });
  const results = await db.batch(prepared);
  let rowsWritten = 0;
  let backlog: D1WriteResult["backlog"] = null;
  for (const r of results) {
    rowsWritten += r?.meta?.rows_written ?? 0;
    const row = (r?.results as { pendingDeltas?: number; oldestDelta?: number }[] | undefined)?.[0];
    if (row?.pendingDeltas != null)
      backlog = { pending: Number(row.pendingDeltas), oldest: Number(row.oldestDelta) };
  }
  return { rowsWritten, statements: statements.length, backlog };
}
