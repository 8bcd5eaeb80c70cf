// Picks the search backend for a worker: Elasticsearch when ELASTICSEARCH_URL is set, else the
// embedded D1 FTS5 fallback. Used by the indexer (writes) and the console (search, retention).

import type { SearchBackend } from "./backend";
import { ElasticsearchBackend } from "./elasticsearch";
import { FtsSearchBackend } from "./fts";

/** The bindings a search backend needs; secrets may be empty strings or missing at runtime. */
export interface SearchEnv {
  DB: D1Database;
  ELASTICSEARCH_URL?: string;
  ELASTICSEARCH_API_KEY?: string;
  ELASTICSEARCH_USERNAME?: string;
  ELASTICSEARCH_PASSWORD?: string;
  ELASTICSEARCH_INDEX_PREFIX?: string;
}

/**
 * @example
 * const search = createSearchBackend(env);
 * const { hits } = await search.search({ projectId, q: "TypeError level:error" });
 */
export function createSearchBackend(env: SearchEnv): SearchBackend {
  const url = typeof env.ELASTICSEARCH_URL === "string" ? env.ELASTICSEARCH_URL.trim() : "";
  if (!url) return new FtsSearchBackend(env.DB);
  return new ElasticsearchBackend({
    url,
    apiKey: env.ELASTICSEARCH_API_KEY || null,
    username: env.ELASTICSEARCH_USERNAME || null,
    password: env.ELASTICSEARCH_PASSWORD || null,
    indexPrefix: env.ELASTICSEARCH_INDEX_PREFIX || null,
  });
}

export type { IndexResult, SearchBackend, SearchHit, SearchParams, SearchResult } from "./backend";
export { ElasticsearchBackend } from "./elasticsearch";
export { FtsSearchBackend } from "./fts";
export { parseQuery } from "./query";
