// Translates a parsed search (query.ts AST + backend.ts bounds) into an Elasticsearch `_search`
// body with the same meaning as fts-sql.ts: filters only (no scoring), newest first, search_after.

import { MAX_GROUPS, paramTerms, type SearchBounds, type SearchParams } from "./backend";
import type { SearchQuery } from "./query";

/** The fields a hit returns (the rest of _source is never read by search). */
export const HIT_FIELDS = [
  "eventId",
  "groupId",
  "occurredAt",
  "type",
  "message",
  "release",
  "environment",
  "level",
];

/** What the event index returns for one event (get, a group's events). */
export const EVENT_FIELDS = [
  ...HIT_FIELDS,
  "category",
  "receivedAt",
  "user",
  "segmentKey",
  "segmentOffset",
  "segmentLength",
];

type Clause = Record<string, unknown>;

/** A group's events newest first: filters only, no total, no aggregation (cheap at any size). */
export function groupEventsBody(projectId: string, groupId: string, bounds: SearchBounds) {
  return {
    size: bounds.limit + 1,
    track_total_hits: false,
    query: { bool: { filter: [{ term: { projectId } }, { term: { groupId } }] } },
    sort: [{ occurredAt: { order: "desc" } }, { eventId: { order: "desc" } }],
    ...(bounds.after ? { search_after: [bounds.after.at, bounds.after.id] } : {}),
    _source: EVENT_FIELDS,
  };
}

/** The bool query shared by search and get: project, query terms, param filters, time range. */
export function boolQuery(projectId: string, query: SearchQuery, params: SearchParams, bounds: SearchBounds) {
  const filter: Clause[] = [{ term: { projectId } }];
  const mustNot: Clause[] = [];
  for (const t of [...query.terms, ...paramTerms(params)]) {
    const clause =
      t.kind === "text"
        ? { match_phrase: { text: { query: t.tokens.join(" ") } } }
        : t.kind === "field"
          ? { term: { [t.field]: t.value } }
          : { term: { [`tags.${t.key}`]: t.value } };
    (t.negated ? mustNot : filter).push(clause);
  }
  if (bounds.from !== null || bounds.to !== null) {
    const range: Clause = { format: "epoch_millis" };
    if (bounds.from !== null) range.gte = bounds.from;
    if (bounds.to !== null) range.lt = bounds.to;
    filter.push({ range: { occurredAt: range } });
  }
  return { bool: { filter, must_not: mustNot } };
}

/** A full `_search` body: limit+1 hits (to know if there is a next page), exact total, group counts. */
export function searchBody(
  projectId: string,
  query: SearchQuery,
  params: SearchParams,
  bounds: SearchBounds,
  totalCap: number,
) {
  return {
    size: bounds.limit + 1,
    track_total_hits: totalCap,
    query: boolQuery(projectId, query, params, bounds),
    sort: [{ occurredAt: { order: "desc" } }, { eventId: { order: "desc" } }],
    ...(bounds.after ? { search_after: [bounds.after.at, bounds.after.id] } : {}),
    _source: HIT_FIELDS,
    aggs: {
      groups: {
        terms: {
          field: "groupId",
          size: MAX_GROUPS,
          // Monthly indices mean several shards; a generous shard_size keeps top-group counts exact
          // unless a search spans thousands of groups.
          shard_size: 1000,
          order: [{ _count: "desc" }, { _key: "asc" }],
        },
      },
    },
  };
}
