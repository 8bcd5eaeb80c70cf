// The embedded search backend and event index: D1 tables search_docs + search_fts
// (migrations/0001_search_fts.sql, 0004_event_index.sql), used when no Elasticsearch is configured.
// Same semantics as elasticsearch.ts (see conformance.ts).
//
// D1 allows 100 bound parameters per statement, so a batch of docs travels as ONE JSON parameter
// expanded with json_each(), in chunks that stay well under D1's statement and value size limits.

import type { SearchDoc } from "../queue-message";
import {
  type DeleteResult,
  type EventPage,
  type IndexedEvent,
  type IndexResult,
  MAX_GROUPS,
  type ManyDeleteResult,
  type ProjectCutoff,
  page,
  type SearchBackend,
  type SearchHit,
  type SearchOptions,
  type SearchParams,
  type SearchResult,
  searchBounds,
  TOTAL_CAP,
} from "./backend";
import { type IndexableDoc, isoTime, nonStringField, prepareDoc } from "./doc";
import { whereClause } from "./fts-sql";
import { parseQuery } from "./query";

const CHUNK_DOCS = 200;
const CHUNK_BYTES = 512 * 1024;
const DELETE_CHUNK = 1000;

const INSERT_DOCS = `INSERT INTO search_docs (project_id, event_id, group_id, fingerprint, category, occurred_at,
  received_at, type, message, level, release, environment, "user", platform, tags, segment_key, segment_offset,
  segment_length)
SELECT j.value ->> '$.projectId', j.value ->> '$.eventId', j.value ->> '$.groupId', j.value ->> '$.fingerprint',
  j.value ->> '$.category', j.value ->> '$.occurredAt', j.value ->> '$.receivedAt', j.value ->> '$.type',
  j.value ->> '$.message', j.value ->> '$.level', j.value ->> '$.release', j.value ->> '$.environment',
  j.value ->> '$.user', j.value ->> '$.platform', j.value -> '$.tags', j.value ->> '$.segmentKey',
  j.value ->> '$.segmentOffset', j.value ->> '$.segmentLength'
FROM json_each(?) AS j WHERE true
ON CONFLICT (project_id, event_id) DO NOTHING`;

// Only rows that have no index entry yet: a redelivered doc was skipped above and is skipped here.
const INSERT_FTS = `INSERT INTO search_fts (rowid, text)
SELECT d.rowid, j.value ->> '$.text'
FROM json_each(?) AS j
JOIN search_docs AS d ON d.project_id = j.value ->> '$.projectId' AND d.event_id = j.value ->> '$.eventId'
WHERE NOT EXISTS (SELECT 1 FROM search_fts AS f WHERE f.rowid = d.rowid)`;

const HIT_COLUMNS =
  "d.event_id, d.group_id, d.occurred_at, d.type, d.message, d.release, d.environment, d.level";
const EVENT_COLUMNS = `${HIT_COLUMNS}, d.category, d.received_at, d."user", d.segment_key, d.segment_offset,
  d.segment_length`;

interface EventRow extends HitRow {
  category: string;
  received_at: number;
  user: string | null;
  segment_key: string | null;
  segment_offset: number | null;
  segment_length: number | null;
}

interface HitRow {
  event_id: string;
  group_id: string | null;
  occurred_at: number;
  type: string | null;
  message: string;
  release: string | null;
  environment: string | null;
  level: string;
}

/**
 * @example
 * const search = new FtsSearchBackend(env.DB);
 * await search.index(batch.docs);
 */
export class FtsSearchBackend implements SearchBackend {
  readonly name = "fts";
  private readonly totalCap: number;
  constructor(
    private readonly db: D1Database,
    options: SearchOptions = {},
  ) {
    this.totalCap = options.totalCap ?? TOTAL_CAP;
  }

  async index(docs: SearchDoc[]): Promise<IndexResult[]> {
    const results: IndexResult[] = new Array(docs.length).fill("ok");
    const rows = new Map<string, IndexableDoc>();
    docs.forEach((doc, i) => {
      const prepared = prepareDoc(doc);
      const bad = "dead" in prepared ? null : nonStringField(prepared);
      if ("dead" in prepared) results[i] = prepared;
      else if (bad) results[i] = { dead: `invalid document: ${bad} must be a string` };
      else rows.set(`${prepared.projectId}\u0000${prepared.eventId}`, prepared); // one row per key
    });
    if (rows.size === 0) return results;
    const statements = chunks([...rows.values()]).flatMap((json) => [
      this.db.prepare(INSERT_DOCS).bind(json),
      this.db.prepare(INSERT_FTS).bind(json),
    ]);
    try {
      await this.db.batch(statements); // one transaction: all of it is indexed or none
    } catch (err) {
      console.warn("fts index failed; docs will be retried", err);
      return results.map((r) => (r === "ok" ? "retry" : r));
    }
    return results;
  }

  async search(params: SearchParams): Promise<SearchResult> {
    const bounds = searchBounds(params);
    const where = whereClause(params.projectId, parseQuery(params.q), params, bounds);
    let hitsWhere = where.sql;
    const hitParams = [...where.params];
    if (bounds.after) {
      // A row-value comparison, so the cursor is a range on search_docs_project_time: page k
      // starts where page k-1 ended instead of walking past every hit before it.
      hitsWhere += " AND (d.occurred_at, d.event_id) < (?, ?)";
      hitParams.push(bounds.after.at, bounds.after.id);
    }
    const [hits, total, groups] = await this.db.batch([
      this.db
        .prepare(`SELECT ${HIT_COLUMNS} FROM search_docs AS d WHERE ${hitsWhere}
          ORDER BY d.occurred_at DESC, d.event_id DESC LIMIT ?`)
        .bind(...hitParams, bounds.limit + 1),
      // Counted up to the cap (one row past it says "more"), and grouped over the newest `cap`
      // matches: each stops once `cap` matches are found. A query with no filter stops there; a
      // field filter (level:, release:...) is checked row by row along the project's time index,
      // so one that matches few events walks the project's documents to find them, and text terms
      // make FTS5 find every match first. That is the embedded configuration's limit: with
      // Elasticsearch, search does not touch D1.
      this.db
        .prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM search_docs AS d WHERE ${where.sql} LIMIT ?)`)
        .bind(...where.params, this.totalCap + 1),
      this.db
        .prepare(`SELECT m.group_id AS groupId, count(*) AS count FROM
          (SELECT d.group_id FROM search_docs AS d WHERE ${where.sql}
           ORDER BY d.occurred_at DESC, d.event_id DESC LIMIT ?) AS m
          WHERE m.group_id IS NOT NULL
          GROUP BY m.group_id ORDER BY count DESC, m.group_id ASC LIMIT ${MAX_GROUPS}`)
        .bind(...where.params, this.totalCap),
    ]);
    const rows = (hits?.results ?? []) as unknown as HitRow[];
    const counted = Number((total?.results[0] as { n: number } | undefined)?.n ?? 0);
    return {
      ...page(rows.map(toHit), bounds.limit),
      total: Math.min(counted, this.totalCap),
      totalRelation: counted > this.totalCap ? "gte" : "eq",
      groups: (groups?.results ?? []) as Array<{ groupId: string; count: number }>,
    };
  }

  async get(projectId: string, eventId: string): Promise<IndexedEvent | null> {
    const row = await this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM search_docs AS d WHERE d.project_id = ? AND d.event_id = ?`)
      .bind(projectId, eventId)
      .first<EventRow>();
    return row ? toEvent(row) : null;
  }

  async groupEvents(
    projectId: string,
    groupId: string,
    params: { limit?: number | null; cursor?: string | null },
  ): Promise<EventPage> {
    const bounds = searchBounds(params);
    // A row-value comparison, so the cursor is a range on search_docs_group_time (no skipped rows).
    const after = bounds.after ? " AND (d.occurred_at, d.event_id) < (?, ?)" : "";
    const rows = await this.db
      .prepare(`${GROUP_EVENTS_SQL}${after} ORDER BY d.occurred_at DESC, d.event_id DESC LIMIT ?`)
      .bind(projectId, groupId, ...(bounds.after ? [bounds.after.at, bounds.after.id] : []), bounds.limit + 1)
      .all<EventRow>();
    const { hits, next } = page(rows.results.map(toEvent), bounds.limit);
    return { events: hits, next };
  }

  async deleteOlderThan(projectId: string, cutoffMs: number, maxChunks = Infinity): Promise<DeleteResult> {
    const stmt = this.expiredChunk(projectId, cutoffMs);
    let deleted = 0;
    for (let i = 0; i < maxChunks; i++) {
      const n = (await stmt.all()).results.length;
      deleted += n;
      if (n < DELETE_CHUNK) return { deleted, done: true };
    }
    return { deleted, done: false };
  }

  async deleteOlderThanMany(cutoffs: ProjectCutoff[]): Promise<ManyDeleteResult> {
    if (cutoffs.length === 0) return { deleted: 0, unfinished: [] };
    // One chunk per project, all in one batch (one D1 call): a full chunk means more may be left.
    const results = await this.db.batch(cutoffs.map((c) => this.expiredChunk(c.projectId, c.cutoffMs)));
    let deleted = 0;
    const unfinished: string[] = [];
    for (const [i, r] of results.entries()) {
      deleted += r.results.length;
      if (r.results.length === DELETE_CHUNK) unfinished.push(cutoffs[i]!.projectId);
    }
    return { deleted, unfinished };
  }

  /**
   * Deletes up to DELETE_CHUNK of a project's docs older than the cutoff: bounded deletes keep each
   * statement short; the AFTER DELETE trigger drops the FTS rows. Counted with RETURNING: D1's
   * meta.changes also counts the trigger's FTS5 shadow-table writes.
   */
  private expiredChunk(projectId: string, cutoffMs: number): D1PreparedStatement {
    return this.db
      .prepare(`DELETE FROM search_docs WHERE rowid IN (SELECT rowid FROM search_docs
        WHERE project_id = ? AND occurred_at < ? LIMIT ${DELETE_CHUNK}) RETURNING 1 AS x`)
      .bind(projectId, cutoffMs);
  }
}

/** A group's events; callers append the cursor condition, order and limit. */
export const GROUP_EVENTS_SQL = `SELECT ${EVENT_COLUMNS} FROM search_docs AS d
  WHERE d.project_id = ? AND d.group_id = ?`;

function toEvent(r: EventRow): IndexedEvent {
  return {
    ...toHit(r),
    category: r.category,
    receivedAt: isoTime(r.received_at),
    user: r.user,
    segment:
      r.segment_key !== null && r.segment_offset !== null && r.segment_length !== null
        ? { key: r.segment_key, offset: r.segment_offset, length: r.segment_length }
        : null,
  };
}

function toHit(r: HitRow): SearchHit {
  return {
    eventId: r.event_id,
    groupId: r.group_id,
    occurredAt: isoTime(r.occurred_at), // "" for a pre-validation row out of range
    type: r.type,
    message: r.message,
    release: r.release,
    environment: r.environment,
    level: r.level,
  };
}

/** JSON arrays of docs, each small enough for one bound parameter. */
function chunks(docs: IndexableDoc[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const doc of docs) {
    const json = JSON.stringify(doc);
    if (current.length > 0 && (current.length >= CHUNK_DOCS || bytes + json.length > CHUNK_BYTES)) {
      out.push(`[${current.join(",")}]`);
      current = [];
      bytes = 0;
    }
    current.push(json);
    bytes += json.length;
  }
  if (current.length > 0) out.push(`[${current.join(",")}]`);
  return out;
}
