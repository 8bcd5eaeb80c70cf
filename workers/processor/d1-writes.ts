// Everything a processor batch writes to D1, as ONE `batch()` (one transaction): event rows (the
// idempotency ledger and segment pointers), the segment row, and aggregates (groups, RUM pages,
// sessions, outcomes) computed in memory and written once per key.
//
// Idempotency: event rows are inserted with ON CONFLICT DO NOTHING and stamped with this
// invocation's batch id; every aggregate counts only rows that carry that batch id, i.e. rows this
// batch really inserted. A redelivered message therefore changes nothing, and because the batch is
// one transaction, a crash can never leave rows counted without their aggregates or vice versa.
// Rows travel as one JSON parameter read with json_each, which sidesteps D1's 100-bound-parameter
// limit and keeps each statement's SQL constant; the JSON is split into chunks of ≤ 500 KB (D1
// refuses bound strings over 2 MB), each chunk its own statement in the same batch. Joins are CROSS JOINs so that
// SQLite walks the JSON rows and probes the primary key, never scanning the events table.

import { type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { jsonChunks } from "../../shared/json-chunks";
import type { OutcomeRecord } from "../../shared/queue-message";
import { BUCKET_COUNT, bucketOf } from "../../shared/rum/page-views";
import type { Prepared } from "./prepare";

export interface StoredRef {
  prepared: Prepared;
  segmentKey: string;
  offset: number;
  length: number;
}

export interface D1WriteInput {
  batchId: string;
  now: number;
  segment: { key: string; bytes: number; refs: StoredRef[] } | null;
  /** Outcome-only parts of messages (edge drop counts), keyed by message id for the ledger. */
  edgeOutcomes: { messageId: string; outcomes: OutcomeRecord[] }[];
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
const trim = (s: string | null | undefined, n: number) => (s == null ? null : s.slice(0, n));

export function buildStatements(input: D1WriteInput): SQL[] {
  const { batchId, now } = input;
  const statements: SQL[] = [];
  const refs = input.segment?.refs ?? [];

  if (input.segment && refs.length > 0) {
    const rows = refs.map(({ prepared: p, segmentKey, offset, length }) => {
      const e = p.event;
      return [
        Number(p.item.projectId),
        p.item.eventId,
        p.item.category,
        p.grouping?.groupId ?? null,
        e ? Date.parse(e.occurredAt) : p.item.receivedAt,
        p.item.receivedAt,
        trim(e?.type, 200),
        trim(e?.message, 300),
        e?.level ?? null,
        trim(e?.release, 200),
        trim(e?.environment, 64),
        trim(typeof e?.user?.id === "string" ? e.user.id : (e?.user?.email ?? null), 200),
        segmentKey,
        offset,
        length,
      ];
    });
    for (const chunk of jsonChunks(rows))
      statements.push(sql`INSERT INTO events (project_id, event_id, category, group_id, occurred_at, received_at, type,
        message, level, release, environment, user_id, segment_key, segment_offset, segment_length, batch_id)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8,
        value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, ${batchId}
      FROM json_each(${chunk}) WHERE true
      ON CONFLICT DO NOTHING`);

    const contents: Record<string, string[]> = {};
    for (const r of refs) (contents[r.prepared.item.projectId] ??= []).push(r.prepared.item.eventId);
    statements.push(sql`INSERT INTO segments (key, created_at, bytes, event_count, contents)
      VALUES (${input.segment.key}, ${now}, ${input.segment.bytes}, ${refs.length}, ${JSON.stringify(contents)})
      ON CONFLICT DO NOTHING`);
  }

  // Groups: aggregated in memory, one upsert row per group.
  const groups = new Map<
    string,
    {
      p: number;
      g: string;
      f: string;
      ver: number;
      type: string | null;
      msg: string;
      culprit: string | null;
      level: string;
      platform: string | null;
      first: number;
      last: number;
      lastId: string;
      release: string | null;
      ids: string[];
    }
  >();
  for (const { prepared: p } of refs) {
    if (!p.grouping || !p.event) continue;
    const t = Date.parse(p.event.occurredAt);
    const key = `${p.item.projectId}:${p.grouping.groupId}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        p: Number(p.item.projectId),
        g: p.grouping.groupId,
        f: p.grouping.fingerprint,
        ver: p.grouping.version,
        type: trim(p.event.type, 200),
        msg: (p.event.message || p.event.type || "(no message)").slice(0, 500),
        culprit: p.grouping.culprit,
        level: p.event.level,
        platform: p.event.platform,
        first: t,
        last: t,
        lastId: p.item.eventId,
        release: p.event.release,
        ids: [p.item.eventId],
      });
    } else {
      g.ids.push(p.item.eventId);
      if (t < g.first) g.first = t;
      if (t >= g.last) {
        g.last = t;
        g.lastId = p.item.eventId;
        g.release = p.event.release;
        g.msg = (p.event.message || p.event.type || g.msg).slice(0, 500);
      }
    }
  }
  if (groups.size > 0) {
    // A resolved group that receives a new event is reopened (a regression); an ignored one keeps
    // its status but still counts.
    for (const chunk of jsonChunks([...groups.values()]))
      statements.push(sql`INSERT INTO error_groups (project_id, id, fingerprint, grouping_version, type, message, culprit,
        level, platform, status, count, first_seen, last_seen, last_event_id, last_release)
      SELECT d.p, d.g, d.f, d.ver, d.type, d.msg, d.culprit, d.level, d.platform, 'active', d.n, d.first, d.last, d.lastId, d.release
      FROM (SELECT g.value->>'p' AS p, g.value->>'g' AS g, g.value->>'f' AS f, g.value->>'ver' AS ver,
              g.value->>'type' AS type, g.value->>'msg' AS msg, g.value->>'culprit' AS culprit, g.value->>'level' AS level,
              g.value->>'platform' AS platform, g.value->>'first' AS first, g.value->>'last' AS last,
              g.value->>'lastId' AS lastId, g.value->>'release' AS release,
              (SELECT count(*) FROM json_each(g.value->'ids') i
                 CROSS JOIN events ev ON ev.project_id = g.value->>'p' AND ev.event_id = i.value AND ev.batch_id = ${batchId}) AS n
            FROM json_each(${chunk}) AS g) d
      WHERE d.n > 0
      ON CONFLICT (project_id, id) DO UPDATE SET
        count = count + excluded.count,
        first_seen = min(first_seen, excluded.first_seen),
        last_seen = max(last_seen, excluded.last_seen),
        last_event_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_event_id ELSE last_event_id END,
        last_release = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_release ELSE last_release END,
        message = CASE WHEN excluded.last_seen >= last_seen THEN excluded.message ELSE message END,
        regressed_at = CASE WHEN status = 'resolved' THEN excluded.last_seen ELSE regressed_at END,
        status = CASE WHEN status = 'resolved' THEN 'active' ELSE status END`);
  }

  // RUM page views per project, page and minute.
  const pages = new Map<
    string,
    { p: number; page: string; m: number; ids: string[]; views: number[]; loads: number[] }
  >();
  for (const { prepared: p } of refs) {
    if (!p.pageViews) continue;
    for (const v of p.pageViews) {
      const m = minuteOf(p.item.receivedAt);
      const key = `${p.item.projectId}\u0000${v.page}\u0000${m}`;
      let agg = pages.get(key);
      if (!agg)
        pages.set(
          key,
          (agg = { p: Number(p.item.projectId), page: v.page, m, ids: [], views: [], loads: [] }),
        );
      // Per event id: how many views and which load times it contributes (an item may hold several).
      agg.ids.push(p.item.eventId);
      agg.views.push(1);
      agg.loads.push(v.loadMs ?? -1);
    }
  }
  if (pages.size > 0) {
    const rows = [...pages.values()].flatMap((a) => {
      // Only views from newly inserted items count: split per event id.
      const perEvent = new Map<string, { views: number; count: number; sum: number; h: number[] }>();
      a.ids.forEach((id, i) => {
        let e = perEvent.get(id);
        if (!e) perEvent.set(id, (e = { views: 0, count: 0, sum: 0, h: new Array(BUCKET_COUNT).fill(0) }));
        e.views += a.views[i]!;
        const load = a.loads[i]!;
        if (load >= 0) {
          e.count++;
          e.sum += load;
          e.h[bucketOf(load)]!++;
        }
      });
      return [...perEvent].map(([id, e]) => ({ p: a.p, page: a.page, m: a.m, id, ...e }));
    });
    const hSum = Array.from({ length: BUCKET_COUNT }, (_, i) => `sum(d.h->>${i})`).join(", ");
    const hMerge = Array.from(
      { length: BUCKET_COUNT },
      (_, i) => `coalesce(histogram->>${i}, 0) + (excluded.histogram->>${i})`,
    ).join(", ");
    for (const chunk of jsonChunks(rows))
      statements.push(sql`INSERT INTO rum_page_minutes (project_id, page, minute, views, load_count, load_sum_ms, histogram)
      SELECT d.p, d.page, d.m, sum(d.views), sum(d.count), sum(d.sum), json_array(${sql.raw(hSum)})
      FROM (SELECT value->>'p' AS p, value->>'page' AS page, value->>'m' AS m, value->>'id' AS id,
              value->>'views' AS views, value->>'count' AS count, value->>'sum' AS sum, value->'h' AS h
            FROM json_each(${chunk})) d
      CROSS JOIN events ev ON ev.project_id = d.p AND ev.event_id = d.id AND ev.batch_id = ${batchId}
      WHERE true
      GROUP BY d.p, d.page, d.m
      ON CONFLICT (project_id, page, minute) DO UPDATE SET
        views = views + excluded.views,
        load_count = load_count + excluded.load_count,
        load_sum_ms = load_sum_ms + excluded.load_sum_ms,
        histogram = json_array(${sql.raw(hMerge)})`);
  }

  // Release health: session deltas per project, release, environment and minute.
  const sessionRows: unknown[] = [];
  for (const { prepared: p } of refs) {
    for (const s of p.sessions ?? [])
      sessionRows.push({ p: Number(p.item.projectId), id: p.item.eventId, ...s });
  }
  if (sessionRows.length > 0) {
    for (const chunk of jsonChunks(sessionRows))
      statements.push(sql`INSERT INTO session_minutes (project_id, release, environment, minute, started, exited, errored, crashed, abnormal)
      SELECT d.value->>'p', d.value->>'release', d.value->>'environment', d.value->>'minute',
        sum(d.value->>'started'), sum(d.value->>'exited'), sum(d.value->>'errored'), sum(d.value->>'crashed'), sum(d.value->>'abnormal')
      FROM json_each(${chunk}) d
      CROSS JOIN events ev ON ev.project_id = d.value->>'p' AND ev.event_id = d.value->>'id' AND ev.batch_id = ${batchId}
      WHERE true
      GROUP BY 1, 2, 3, 4
      ON CONFLICT (project_id, release, environment, minute) DO UPDATE SET
        started = started + excluded.started, exited = exited + excluded.exited, errored = errored + excluded.errored,
        crashed = crashed + excluded.crashed, abnormal = abnormal + excluded.abnormal`);
  }

  // Attachments: linked to their event, bytes in their own R2 object.
  const attachmentRows = refs
    .filter(({ prepared: p }) => p.attachment)
    .map(({ prepared: p }) => ({ p: Number(p.item.projectId), ...p.attachment!, at: p.item.receivedAt }));
  if (attachmentRows.length > 0) {
    for (const chunk of jsonChunks(attachmentRows))
      statements.push(sql`INSERT INTO attachments (project_id, event_id, name, blob_key, content_type, attachment_type, size, created_at)
      SELECT value->>'p', value->>'eventId', value->>'name', value->>'blobKey', value->>'contentType', value->>'attachmentType',
        value->>'size', value->>'at'
      FROM json_each(${chunk}) WHERE true
      ON CONFLICT DO NOTHING`);
  }

  // Outcomes: "accepted" per stored item, client discards from client reports — both counted only
  // for newly inserted rows; edge drop counts through the message ledger.
  const outcomeRows: unknown[] = [];
  for (const { prepared: p } of refs) {
    const base = { p: Number(p.item.projectId), id: p.item.eventId, m: minuteOf(p.item.receivedAt) };
    outcomeRows.push({
      ...base,
      c: p.item.category,
      o: p.invalid ? "invalid" : "accepted",
      r: p.invalid ?? "",
      q: 1,
    });
    for (const d of p.discards ?? [])
      outcomeRows.push({ ...base, c: d.category, o: "client_discard", r: d.reason, q: d.quantity });
  }
  if (outcomeRows.length > 0) {
    for (const chunk of jsonChunks(outcomeRows))
      statements.push(sql`INSERT INTO outcomes (project_id, minute, category, outcome, reason, quantity)
      SELECT d.value->>'p', d.value->>'m', d.value->>'c', d.value->>'o', d.value->>'r', sum(d.value->>'q')
      FROM json_each(${chunk}) d
      CROSS JOIN events ev ON ev.project_id = d.value->>'p' AND ev.event_id = d.value->>'id' AND ev.batch_id = ${batchId}
      WHERE true
      GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (project_id, minute, category, outcome, reason) DO UPDATE SET quantity = quantity + excluded.quantity`);
  }
  if (input.edgeOutcomes.length > 0) {
    const ledger = input.edgeOutcomes.map((e) => e.messageId);
    for (const chunk of jsonChunks(ledger))
      statements.push(sql`INSERT INTO applied_messages (id, batch_id, applied_at)
      SELECT value, ${batchId}, ${now} FROM json_each(${chunk}) WHERE true ON CONFLICT DO NOTHING`);
    const rows = input.edgeOutcomes.flatMap((e) =>
      e.outcomes.map((o) => ({
        mid: e.messageId,
        p: Number(o.projectId),
        m: minuteOf(o.at),
        c: o.category,
        o: o.outcome,
        r: o.reason,
        q: o.quantity,
      })),
    );
    for (const chunk of jsonChunks(rows))
      statements.push(sql`INSERT INTO outcomes (project_id, minute, category, outcome, reason, quantity)
      SELECT d.value->>'p', d.value->>'m', d.value->>'c', d.value->>'o', d.value->>'r', sum(d.value->>'q')
      FROM json_each(${chunk}) d
      CROSS JOIN applied_messages a ON a.id = d.value->>'mid' AND a.batch_id = ${batchId}
      WHERE true
      GROUP BY 1, 2, 3, 4, 5
      ON CONFLICT (project_id, minute, category, outcome, reason) DO UPDATE SET quantity = quantity + excluded.quantity`);
  }
  return statements;
}

const dialect = new SQLiteAsyncDialect();

export interface D1WriteResult {
  rowsWritten: number;
  statements: number;
}

/** Runs the batch's statements as one D1 batch (one transaction). */
export async function writeBatch(db: D1Database, input: D1WriteInput): Promise<D1WriteResult> {
  const statements = buildStatements(input);
  if (statements.length === 0) return { rowsWritten: 0, statements: 0 };
  // drizzle renders each statement (SQL + parameters); D1's own batch() runs them as one transaction.
  const prepared = statements.map((s) => {
    const q = dialect.sqlToQuery(s);
    return db.prepare(q.sql).bind(...q.params);
  });
  const results = await db.batch(prepared);
  let rowsWritten = 0;
  for (const r of results) rowsWritten += r?.meta?.rows_written ?? 0;
  return { rowsWritten, statements: statements.length };
}
