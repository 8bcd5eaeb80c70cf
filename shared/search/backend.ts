// The one interface the indexer (writes) and the console (reads, retention) use for search and the
// per-event index, with two implementations of identical semantics: Elasticsearch
// (elasticsearch.ts) and D1 FTS5 (fts.ts). Event detail, a group's event list and search are all
// served from it (no D1 row per event). Parameter checks, paging cursors and document validation
// live here so both backends share them; conformance.ts holds them to the same answers.

import { badRequest } from "../http/errors";
import type { SearchDoc } from "../queue-message";
import type { FieldTerm } from "./query";

/** Per document: indexed (or already there), try again later, or never indexable (dead-letter it). */
export type IndexResult = "ok" | "retry" | { dead: string };

export interface SearchParams {
  projectId: string;
  /** Query string, see query.ts. */
  q?: string | null;
  /** occurredAt ≥ from (epoch ms, or an ISO 8601 string). */
  from?: number | string | null;
  /** occurredAt < to (epoch ms, or an ISO 8601 string). */
  to?: number | string | null;
  release?: string | null;
  environment?: string | null;
  level?: string | null;
  groupId?: string | null;
  /** Page size; default 50, clamped to 1..100. */
  limit?: number | null;
  /** `next` from the previous page. */
  cursor?: string | null;
}

export interface SearchHit {
  eventId: string;
  groupId: string | null;
  /** ISO 8601, millisecond precision, UTC. */
  occurredAt: string;
  type: string | null;
  message: string;
  release: string | null;
  environment: string | null;
  level: string;
}

/**
 * How many matches a search counts before it answers "at least this many" (Elasticsearch's own
 * default for track_total_hits). Counting every match of a broad query reads a number of rows that
 * grows with the project's events; a page of hits never needs it.
 */
export const TOTAL_CAP = 10_000;

export interface SearchOptions {
  /** Matches counted before the total becomes "at least" (default TOTAL_CAP; tests set it low). */
  totalCap?: number;
}

export interface SearchResult {
  /** Newest first (occurredAt, then eventId, both descending). */
  hits: SearchHit[];
  /** Matches of the query regardless of the cursor, counted up to the backend's cap. */
  total: number;
  /** "eq": `total` is every match; "gte": there are at least `total` (the count stopped at the cap). */
  totalRelation: "eq" | "gte";
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
  /**
   * Matches per group (docs without a group are not counted), largest first, ties by groupId. Past
   * the cap the embedded backend counts the newest `totalCap` matches; Elasticsearch counts all.
   */
  groups: Array<{ groupId: string; count: number }>;
}

/** Where an event's raw record lives: an R2 segment and the record's byte range. */
export interface SegmentPointer {
  key: string;
  offset: number;
  length: number;
}

/** One event as the event index holds it: what the console lists, and its segment pointer. */
export interface IndexedEvent extends SearchHit {
  category: string;
  /** ISO 8601, millisecond precision, UTC. */
  receivedAt: string;
  user: string | null;
  /** Null for a document indexed without one (it is searchable, but has no detail to show). */
  segment: SegmentPointer | null;
}

/** A page of a group's events, newest first (occurredAt, then eventId, both descending). */
export interface EventPage {
  events: IndexedEvent[];
  next: string | null;
}

export interface SearchBackend {
  readonly name: "elasticsearch" | "fts";
  /** One result per doc, in order. Idempotent: re-indexing a doc changes nothing. */
  index(docs: SearchDoc[]): Promise<IndexResult[]>;
  search(params: SearchParams): Promise<SearchResult>;
  /** One event by id, or null when it is unknown or not yet indexed. */
  get(projectId: string, eventId: string): Promise<IndexedEvent | null>;
  /** A group's events, newest first, keyset-paged (`limit` clamped as in search). */
  groupEvents(
    projectId: string,
    groupId: string,
    page: { limit?: number | null; cursor?: string | null },
  ): Promise<EventPage>;
  /**
   * Deletes the project's docs with occurredAt < cutoffMs, in at most `maxChunks` round trips of up
   * to 1,000 docs (default: until none are left); `done` is false when some may be left.
   */
  deleteOlderThan(projectId: string, cutoffMs: number, maxChunks?: number): Promise<DeleteResult>;
  /**
   * deleteOlderThan for several projects, each with its cutoff, in one round trip (retention's page
   * of projects): `unfinished` names those that may still hold expired docs, for a deleteOlderThan
   * of their own.
   */
  deleteOlderThanMany(cutoffs: ProjectCutoff[]): Promise<ManyDeleteResult>;
}

export interface ProjectCutoff {
  projectId: string;
  cutoffMs: number;
}

/** What a deleteOlderThanMany call did. */
export interface ManyDeleteResult {
  deleted: number;
  unfinished: string[];
}

/** What a deleteOlderThan call did. */
export interface DeleteResult {
  deleted: number;
  /** False when the call stopped at its `maxChunks` and expired docs may remain. */
  done: boolean;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
/** How many groups a search returns. */
export const MAX_GROUPS = 20;

/** Validated, normalized parameters: what the backends translate. */
export interface SearchBounds {
  from: number | null;
  to: number | null;
  limit: number;
  after: Cursor | null;
}

export function searchBounds(params: Pick<SearchParams, "from" | "to" | "limit" | "cursor">): SearchBounds {
  const requested = params.limit ?? DEFAULT_LIMIT;
  if (!Number.isFinite(requested)) throw badRequest("limit must be a number");
  return {
    from: timeParam("from", params.from),
    to: timeParam("to", params.to),
    limit: Math.min(MAX_LIMIT, Math.max(1, Math.trunc(requested))),
    after: params.cursor ? decodeCursor(params.cursor) : null,
  };
}

function timeParam(name: string, value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const ms =
    typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(String(value));
  if (!Number.isFinite(ms)) throw badRequest(`${name} must be epoch milliseconds or an ISO 8601 date`);
  return Math.trunc(ms);
}

/** Position of the last hit of a page: (occurredAt ms, eventId). Same encoding for both backends. */
export interface Cursor {
  at: number;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return btoa(JSON.stringify([c.at, c.id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function decodeCursor(s: string): Cursor {
  try {
    const [at, id] = JSON.parse(atob(s.replace(/-/g, "+").replace(/_/g, "/"))) as unknown[];
    if (typeof at === "number" && Number.isSafeInteger(at) && typeof id === "string") return { at, id };
  } catch {
    // fall through: any malformed cursor is the client's error
  }
  throw badRequest("invalid cursor");
}

/** Builds a page from limit+1 fetched hits: the extra one only says whether there is a next page. */
export function page<T extends Pick<SearchHit, "occurredAt" | "eventId">>(
  fetched: T[],
  limit: number,
): { hits: T[]; next: string | null } {
  const hits = fetched.slice(0, limit);
  const last = hits[hits.length - 1];
  const next =
    fetched.length > limit && last
      ? encodeCursor({ at: Date.parse(last.occurredAt), id: last.eventId })
      : null;
  return { hits, next };
}

/** Search parameters that are plain field filters (`?release=` etc.) become field terms. */
export function paramTerms(params: SearchParams): FieldTerm[] {
  const out: FieldTerm[] = [];
  for (const field of ["release", "environment", "level", "groupId"] as const) {
    const value = params[field];
    if (value) out.push({ kind: "field", field, value, negated: false });
  }
  return out;
}
