// Builds Elasticsearch `_bulk` requests for the indexer and reads their per-item results.
// `create` with a deterministic _id makes redelivery harmless: a second copy is a 409, counted as ok.

import type { IndexResult } from "./backend";
import { errorText, type IndexableDoc } from "./doc";

export interface BulkLimits {
  /** Request body cap; ES's own http.max_content_length is 100 MB, small requests index faster. */
  maxBytes: number;
  maxDocs: number;
}
export const DEFAULT_BULK_LIMITS: BulkLimits = { maxBytes: 5 * 1024 * 1024, maxDocs: 1000 };

/** One bulk request: NDJSON body and, per line pair, the caller's doc position. */
export interface BulkChunk {
  body: string;
  positions: number[];
}

/** Monthly indices (`<prefix>-YYYY.MM`, UTC, by occurredAt): retention can drop a whole month. */
export function indexName(prefix: string, occurredAtMs: number): string {
  const d = new Date(occurredAtMs);
  return `${prefix}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

/**
 * The document id. Scoped by project because event ids are client-chosen (Sentry): one project must
 * not be able to pre-empt another's document by reusing its event id. Matches D1's (project, event) key.
 */
export function docId(projectId: string, eventId: string): string {
  return `${projectId}:${eventId}`;
}

/**
 * Splits docs into bulk requests within the limits. A doc that cannot go in any request comes back
 * in `dead` with the reason: one over maxBytes alone, or one that cannot be serialised (prepareDoc
 * range-checks times, but a throw here must still cost one doc, never the whole queue batch).
 */
export function bulkChunks(
  prefix: string,
  docs: Array<{ position: number; doc: IndexableDoc }>,
  limits: BulkLimits = DEFAULT_BULK_LIMITS,
): { chunks: BulkChunk[]; dead: Array<{ position: number; dead: string }> } {
  const encoder = new TextEncoder();
  const chunks: BulkChunk[] = [];
  const dead: Array<{ position: number; dead: string }> = [];
  let lines: string[] = [];
  let positions: number[] = [];
  let bytes = 0;
  const flush = () => {
    if (positions.length > 0) chunks.push({ body: lines.join(""), positions });
    lines = [];
    positions = [];
    bytes = 0;
  };
  for (const { position, doc } of docs) {
    let pair: string;
    try {
      pair = bulkPair(prefix, doc);
    } catch (err) {
      dead.push({ position, dead: `invalid document: cannot be serialised: ${errorText(err)}` });
      continue;
    }
    const size = encoder.encode(pair).byteLength;
    if (size > limits.maxBytes) {
      dead.push({ position, dead: "document larger than the bulk request limit" });
      continue;
    }
    if (bytes + size > limits.maxBytes || positions.length >= limits.maxDocs) flush();
    lines.push(pair);
    positions.push(position);
    bytes += size;
  }
  flush();
  return { chunks, dead };
}

/** The action and source lines of one doc; throws on a doc that cannot be serialised. */
function bulkPair(prefix: string, doc: IndexableDoc): string {
  const action = {
    create: { _index: indexName(prefix, doc.occurredAt), _id: docId(doc.projectId, doc.eventId) },
  };
  const source = {
    ...doc,
    occurredAt: new Date(doc.occurredAt).toISOString(),
    receivedAt: new Date(doc.receivedAt).toISOString(),
  };
  return `${JSON.stringify(action)}\n${JSON.stringify(source)}\n`;
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/**
 * Per-item outcome: created or already there → ok; a document error (below) → dead; anything else
 * → retry: throttling (429), server errors, 401/403/404 (credentials, blocks, a missing index), and
 * a 400 about the index or cluster rather than the doc. A retried message is never lost (after
 * max_retries the queue moves it to the DLQ whole, replayable), while a dead doc is given up at once,
 * so only errors the same doc would hit again anywhere are dead.
 */
export function itemResult(item: BulkItem | undefined): IndexResult {
  const status = item?.status ?? 0;
  if (status === 200 || status === 201 || status === 409) return "ok";
  if (status === 400 && isDocumentError(item?.error)) {
    const e = item?.error;
    const cause = e?.caused_by?.reason ? ` (${e.caused_by.reason})` : "";
    return { dead: `elasticsearch rejected the document: ${e?.type ?? "error"}: ${e?.reason ?? ""}${cause}` };
  }
  return "retry";
}

/**
 * Whether a 400 item error is about the document's content. Elasticsearch answers 400 for errors of
 * the target index too, which would dead-letter a whole month of docs: index_closed_exception,
 * invalid_index_name_exception, validation_exception (e.g. the shard limit refusing to create the
 * next monthly index; older versions and OpenSearch report that one as illegal_argument_exception,
 * "Validation Failed: ... maximum shards open"), a missing write alias or pipeline. Those retry.
 */
function isDocumentError(e: BulkItem["error"]): boolean {
  const type = e?.type ?? "";
  const reason = e?.reason ?? "";
  // The type of every document parsing/mapping error since ES 8.8 (elastic/elasticsearch#92646):
  // a value of the wrong type, an unparseable date, an immense term.
  if (type === "document_parsing_exception") return true;
  // Before 8.8 the same errors were mapper_parsing_exception, which index creation also uses for a
  // template mapping it cannot parse ("Failed to parse mapping ..."): an ops problem, not the doc's.
  if (type === "mapper_parsing_exception") return !/^failed to parse mapping/i.test(reason);
  // Before 8.8 Lucene's immense-term check surfaced unwrapped; it names the field of this doc.
  if (type === "illegal_argument_exception") return /immense term in field=/.test(reason);
  // Not strict_dynamic_mapping_exception either: prepareDoc emits a fixed set of fields (tags is a
  // `flattened` field), so a field the strict mapping lacks means the index's mapping is behind
  // the code (es-schema.ts adds missing fields), which is fixed by ops and then succeeds.
  return false;
}

/** Maps a `_bulk` response to results for the chunk's docs; anything unreadable is a retry. */
export function readBulkResponse(json: unknown, count: number): IndexResult[] {
  const body = json as { errors?: boolean; items?: Array<Record<string, BulkItem>> } | null;
  if (!body || !Array.isArray(body.items) || body.items.length !== count)
    return new Array(count).fill("retry");
  if (body.errors === false) return new Array(count).fill("ok");
  const items = body.items.map((entry) => entry?.create ?? Object.values(entry ?? {})[0]);
  const results = items.map(itemResult);
  // A 400 that is retried needs an operator (a closed index, the shard limit...): say so once per
  // kind, since nothing else records why the docs keep coming back.
  const stuck = new Set(
    items.flatMap((item, i) =>
      item?.status === 400 && results[i] === "retry"
        ? [`${item.error?.type ?? "error"}: ${item.error?.reason ?? ""}`]
        : [],
    ),
  );
  for (const why of stuck)
    console.warn(
      JSON.stringify({ msg: "elasticsearch refused docs for a non-document reason; retrying", why }),
    );
  return results;
}
