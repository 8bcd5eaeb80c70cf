// Builds Elasticsearch `_bulk` requests for the indexer and reads their per-item results.
// `create` with a deterministic _id makes redelivery harmless: a second copy is a 409, counted as ok.

import type { IndexResult } from "./backend";
import type { IndexableDoc } from "./doc";

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

/** Splits docs into bulk requests within the limits; a doc over maxBytes alone comes back in `tooLarge`. */
export function bulkChunks(
  prefix: string,
  docs: Array<{ position: number; doc: IndexableDoc }>,
  limits: BulkLimits = DEFAULT_BULK_LIMITS,
): { chunks: BulkChunk[]; tooLarge: number[] } {
  const encoder = new TextEncoder();
  const chunks: BulkChunk[] = [];
  const tooLarge: number[] = [];
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
    const action = {
      create: { _index: indexName(prefix, doc.occurredAt), _id: docId(doc.projectId, doc.eventId) },
    };
    const source = {
      ...doc,
      occurredAt: new Date(doc.occurredAt).toISOString(),
      receivedAt: new Date(doc.receivedAt).toISOString(),
    };
    const pair = `${JSON.stringify(action)}\n${JSON.stringify(source)}\n`;
    const size = encoder.encode(pair).byteLength;
    if (size > limits.maxBytes) {
      tooLarge.push(position);
      continue;
    }
    if (bytes + size > limits.maxBytes || positions.length >= limits.maxDocs) flush();
    lines.push(pair);
    positions.push(position);
    bytes += size;
  }
  flush();
  return { chunks, tooLarge };
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** Per-item outcome: created or already there → ok; throttled or server-side → retry; 400 → dead. */
export function itemResult(item: BulkItem | undefined): IndexResult {
  const status = item?.status ?? 0;
  if (status === 200 || status === 201 || status === 409) return "ok";
  if (status === 400) {
    const e = item?.error;
    const cause = e?.caused_by?.reason ? ` (${e.caused_by.reason})` : "";
    return { dead: `elasticsearch rejected the document: ${e?.type ?? "error"}: ${e?.reason ?? ""}${cause}` };
  }
  // 429, 5xx, and 401/403/404 (credentials, read-only or missing index: fixable by ops, not by the doc).
  return "retry";
}

/** Maps a `_bulk` response to results for the chunk's docs; anything unreadable is a retry. */
export function readBulkResponse(json: unknown, count: number): IndexResult[] {
  const body = json as { errors?: boolean; items?: Array<Record<string, BulkItem>> } | null;
  if (!body || !Array.isArray(body.items) || body.items.length !== count)
    return new Array(count).fill("retry");
  if (body.errors === false) return new Array(count).fill("ok");
  return body.items.map((entry) => itemResult(entry.create ?? Object.values(entry)[0]));
}
