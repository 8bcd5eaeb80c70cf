// The Elasticsearch search backend, over plain fetch (no Node client inside workers): `_bulk` into
// monthly indices `<prefix>-YYYY.MM` for the indexer, `_search` over `<prefix>-*` for the console.
// The index template (es-template.json) is installed by `npm run search:setup`, and checked (and
// installed if missing) by `index` before its first write in an isolate (es-schema.ts).
//
// Retention: `deleteOlderThan` is per project (`_delete_by_query`, or search + bulk delete where the
// reindex module is missing, as in the integ-test distribution). The global maximum retention is
// `dropIndicesOlderThan`: whole monthly indices, the cheap path, for a scheduled job to call.

import type { SearchDoc } from "../queue-message";
import {
  type DeleteResult,
  type EventPage,
  type IndexedEvent,
  type IndexResult,
  type ManyDeleteResult,
  type ProjectCutoff,
  page,
  type SearchBackend,
  type SearchHit,
  type SearchParams,
  type SearchResult,
  searchBounds,
  TOTAL_CAP,
} from "./backend";
import { isoTime, prepareDoc } from "./doc";
import { type BulkLimits, bulkChunks, DEFAULT_BULK_LIMITS, readBulkResponse } from "./es-bulk";
import { boolQuery, EVENT_FIELDS, groupEventsBody, searchBody } from "./es-dsl";
import { ensureSearchSchema, type SchemaReport } from "./es-schema";
import { parseQuery } from "./query";

export interface ElasticsearchConfig {
  url: string;
  /** Sent as `Authorization: ApiKey <apiKey>`; wins over username/password. */
  apiKey?: string | null;
  username?: string | null;
  password?: string | null;
  /** Index names are `<prefix>-YYYY.MM`; default "sluice-events". */
  indexPrefix?: string | null;
  /** Make writes visible to search at once (tests only: refresh per request is costly). */
  refresh?: boolean;
  bulk?: BulkLimits;
  timeoutMs?: number;
  /** Injected in tests (e.g. to simulate a 429 item). */
  fetch?: typeof fetch;
  /** See SearchOptions. */
  totalCap?: number;
}

/** Clusters (url + prefix) whose schema this isolate has checked: once per isolate, not per batch. */
const checkedSchemas = new Map<string, Promise<SchemaReport>>();

type EsSource = Partial<SearchHit> & {
  category?: string;
  receivedAt?: string | number;
  user?: string | null;
  segmentKey?: string | null;
  segmentOffset?: number | null;
  segmentLength?: number | null;
};
type EsHit = { _source?: EsSource };

/**
 * @example
 * const search = new ElasticsearchBackend({ url: env.ELASTICSEARCH_URL, apiKey: env.ELASTICSEARCH_API_KEY });
 */
export class ElasticsearchBackend implements SearchBackend {
  readonly name = "elasticsearch";
  readonly prefix: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly fetcher: typeof fetch;

  constructor(private readonly config: ElasticsearchConfig) {
    this.base = config.url.replace(/\/+$/, "");
    this.prefix = config.indexPrefix || "sluice-events";
    this.headers = { "content-type": "application/json", ...authHeader(config) };
    this.fetcher = config.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * Installs the index template and missing fields if needed, or throws a SearchSchemaError that
   * says what to run. Cached per isolate once it succeeds; a failure is tried again next time.
   */
  ensureSchema(): Promise<SchemaReport> {
    const key = `${this.base} ${this.prefix}`;
    let check = checkedSchemas.get(key);
    if (!check) {
      check = ensureSearchSchema((m, p, b) => this.request(m, p, b), this.prefix);
      checkedSchemas.set(key, check);
      check.catch(() => checkedSchemas.delete(key));
    }
    return check;
  }

  async index(docs: SearchDoc[]): Promise<IndexResult[]> {
    const results: IndexResult[] = new Array(docs.length).fill("retry");
    try {
      // Never let a `_bulk` auto-create an index with dynamic mappings: docs wait instead.
      await this.ensureSchema();
    } catch (err) {
      console.error(JSON.stringify({ msg: "elasticsearch schema not ready", error: String(err) }));
      return results;
    }
    const ready: Array<{ position: number; doc: Exclude<ReturnType<typeof prepareDoc>, { dead: string }> }> =
      [];
    docs.forEach((doc, position) => {
      const prepared = prepareDoc(doc);
      if ("dead" in prepared) results[position] = prepared;
      else ready.push({ position, doc: prepared });
    });
    const { chunks, dead } = bulkChunks(this.prefix, ready, this.config.bulk ?? DEFAULT_BULK_LIMITS);
    for (const d of dead) results[d.position] = { dead: d.dead };
    for (const chunk of chunks) {
      const refresh = this.config.refresh ? "?refresh=true" : "";
      const res = await this.request("POST", `/_bulk${refresh}`, chunk.body, "application/x-ndjson");
      // Network error, whole-request 429/5xx (or anything unreadable): every doc of the chunk retries.
      const chunkResults = res.ok ? readBulkResponse(res.json, chunk.positions.length) : null;
      chunk.positions.forEach((p, i) => {
        results[p] = chunkResults?.[i] ?? "retry";
      });
    }
    return results;
  }

  async search(params: SearchParams): Promise<SearchResult> {
    const bounds = searchBounds(params);
    const body = searchBody(
      params.projectId,
      parseQuery(params.q),
      params,
      bounds,
      this.config.totalCap ?? TOTAL_CAP,
    );
    const json = await this.searchRequest(body);
    const buckets = json.aggregations?.groups?.buckets ?? [];
    return {
      ...page((json.hits?.hits ?? []).map(toHit), bounds.limit),
      total: json.hits?.total?.value ?? 0,
      totalRelation: json.hits?.total?.relation === "gte" ? "gte" : "eq",
      groups: buckets.map((b) => ({ groupId: b.key, count: b.doc_count })),
    };
  }

  async get(projectId: string, eventId: string): Promise<IndexedEvent | null> {
    const json = await this.searchRequest({
      size: 1,
      query: { bool: { filter: [{ term: { projectId } }, { term: { eventId } }] } },
      _source: EVENT_FIELDS,
    });
    const hit = json.hits?.hits?.[0];
    return hit ? toEvent(hit) : null;
  }

  async groupEvents(
    projectId: string,
    groupId: string,
    params: { limit?: number | null; cursor?: string | null },
  ): Promise<EventPage> {
    const bounds = searchBounds(params);
    const json = await this.searchRequest(groupEventsBody(projectId, groupId, bounds));
    const { hits, next } = page((json.hits?.hits ?? []).map(toEvent), bounds.limit);
    return { events: hits, next };
  }

  deleteOlderThan(projectId: string, cutoffMs: number, maxChunks = Infinity): Promise<DeleteResult> {
    return this.deleteMatching(expiredQuery({ projectId, cutoffMs }), maxChunks);
  }

  async deleteOlderThanMany(cutoffs: ProjectCutoff[]): Promise<ManyDeleteResult> {
    if (cutoffs.length === 0) return { deleted: 0, unfinished: [] };
    // One query: any of the projects' docs older than that project's cutoff.
    const query = { bool: { should: cutoffs.map(expiredQuery), minimum_should_match: 1 } };
    const { deleted, done } = await this.deleteMatching(query, 1);
    return { deleted, unfinished: done ? [] : cutoffs.map((c) => c.projectId) };
  }

  /**
   * Deletes the docs `query` matches: one `_delete_by_query` (the cluster does the paging), or, where
   * it is missing, at most `maxChunks` pages of search + bulk delete.
   */
  private async deleteMatching(query: unknown, maxChunks: number): Promise<DeleteResult> {
    const refresh = this.config.refresh ? "&refresh=true" : "";
    const res = await this.request(
      "POST",
      `/${this.prefix}-*/_delete_by_query?conflicts=proceed&ignore_unavailable=true&allow_no_indices=true${refresh}`,
      JSON.stringify({ query }),
    );
    if (res.ok) return { deleted: (res.json as { deleted?: number }).deleted ?? 0, done: true };
    if (!/no handler found/i.test(res.text)) throw esError("delete_by_query", res);
    return this.deleteBySearch(query, maxChunks);
  }

  /** Where `_delete_by_query` is missing (no reindex module): page through ids, bulk-delete them. */
  private async deleteBySearch(query: unknown, maxChunks: number): Promise<DeleteResult> {
    let deleted = 0;
    for (let i = 0; i < maxChunks; i++) {
      const json = await this.searchRequest({ size: 1000, query, _source: false, sort: ["_doc"] });
      const hits = (json.hits?.hits ?? []) as Array<{ _index: string; _id: string }>;
      if (hits.length === 0) return { deleted, done: true };
      const body = hits
        .map((h) => `${JSON.stringify({ delete: { _index: h._index, _id: h._id } })}\n`)
        .join("");
      // refresh=true is required here: the next search must not see these docs again.
      const res = await this.request("POST", "/_bulk?refresh=true", body, "application/x-ndjson");
      if (!res.ok) throw esError("bulk delete", res);
      const items = (res.json as { items?: Array<{ delete?: { status?: number } }> }).items ?? [];
      const done = items.filter((i) => i.delete?.status === 200).length;
      if (done === 0) throw esError("bulk delete", res);
      deleted += done;
      // A short page, all of it deleted: nothing was left to find.
      if (hits.length < 1000 && done === hits.length) return { deleted, done: true };
    }
    return { deleted, done: false };
  }

  /** Drops whole monthly indices that end on or before `cutoffMs` (all projects): max retention. */
  async dropIndicesOlderThan(cutoffMs: number): Promise<string[]> {
    const res = await this.request("GET", `/_cat/indices/${this.prefix}-*?format=json&h=index`);
    if (!res.ok) throw esError("cat indices", res);
    const pattern = new RegExp(`^${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d{4})\\.(\\d{2})$`);
    const old = (res.json as Array<{ index: string }>)
      .map((r) => r.index)
      .filter((name) => {
        const m = pattern.exec(name);
        return m !== null && Date.UTC(Number(m[1]), Number(m[2]), 1) <= cutoffMs; // month m+1 starts
      });
    for (const name of old) {
      const del = await this.request("DELETE", `/${name}`);
      if (!del.ok && del.status !== 404) throw esError(`delete index ${name}`, del);
    }
    return old;
  }

  private async searchRequest(body: unknown): Promise<EsSearchResponse> {
    const res = await this.request(
      "POST",
      `/${this.prefix}-*/_search?ignore_unavailable=true&allow_no_indices=true`,
      JSON.stringify(body),
    );
    if (!res.ok) throw esError("search", res);
    return res.json as EsSearchResponse;
  }

  /** Never throws: a network failure is status 0, so callers decide between retry and error. */
  private async request(method: string, path: string, body?: string, type = "application/json") {
    try {
      const res = await this.fetcher(`${this.base}${path}`, {
        method,
        headers: { ...this.headers, "content-type": type },
        body,
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // keep text for the error message
      }
      return { ok: res.ok, status: res.status, json, text };
    } catch (err) {
      return { ok: false, status: 0, json: null, text: String(err) };
    }
  }
}

interface EsSearchResponse {
  hits?: { total?: { value: number; relation?: "eq" | "gte" }; hits?: EsHit[] };
  aggregations?: { groups?: { buckets?: Array<{ key: string; doc_count: number }> } };
}

function toHit(h: EsHit): SearchHit {
  const s = h._source ?? {};
  return {
    eventId: s.eventId ?? "",
    groupId: s.groupId ?? null,
    occurredAt: s.occurredAt ?? "",
    type: s.type ?? null,
    message: s.message ?? "",
    release: s.release ?? null,
    environment: s.environment ?? null,
    level: s.level ?? "",
  };
}

function toEvent(h: EsHit): IndexedEvent {
  const s = h._source ?? {};
  const { segmentKey: key, segmentOffset: offset, segmentLength: length } = s;
  return {
    ...toHit(h),
    category: s.category ?? "error",
    // Stored as epoch ms (doc.ts), returned as ISO like occurredAt.
    receivedAt: iso(s.receivedAt),
    user: s.user ?? null,
    segment:
      typeof key === "string" && typeof offset === "number" && typeof length === "number"
        ? { key, offset, length }
        : null,
  };
}

function iso(v: string | number | undefined): string {
  return isoTime(typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : Number.NaN);
}

function authHeader(c: ElasticsearchConfig): Record<string, string> {
  if (c.apiKey) return { authorization: `ApiKey ${c.apiKey}` };
  if (c.username) {
    const bytes = new TextEncoder().encode(`${c.username}:${c.password ?? ""}`);
    return { authorization: `Basic ${btoa(String.fromCharCode(...bytes))}` };
  }
  return {};
}

function esError(what: string, res: { status: number; text: string }): Error {
  return new Error(`elasticsearch ${what} failed: ${res.status} ${res.text.slice(0, 500)}`);
}

/** A project's docs that occurred before its cutoff. */
function expiredQuery({ projectId, cutoffMs }: ProjectCutoff) {
  return boolQuery(
    projectId,
    { terms: [] },
    { projectId },
    { from: null, to: cutoffMs, limit: 1, after: null },
  );
}
