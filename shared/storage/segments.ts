// Packed R2 segments (Raygun's file-store lesson: one object write per small report is ruinous at
// volume). A processor batch writes ONE object holding every record; each record is compressed on
// its own (Brotli) so that one event is read back with a single R2 range GET. D1 keeps
// (key, offset, length).
//
// Record (before compression): one line of JSON header (ids, protocol, client, protocol metadata,
// the project's processing policy), "\n", then the payload bytes as stored (scrubbed of PII,
// otherwise as received). The canonical event is not stored twice: shared/normalize.ts rebuilds it.

import { Buffer } from "node:buffer";
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

export interface RecordHeader {
  eventId: string;
  projectId: string;
  protocol: string;
  itemType: string;
  category: string;
  receivedAt: number;
  client?: unknown;
  meta?: unknown;
  /** Scrubbing and retention the item was processed with (normalization reads retention). */
  policy?: unknown;
}

export interface SegmentRecordRef {
  offset: number;
  length: number;
}

const decoder = new TextDecoder();

/**
 * One record, compressed on its own with node:zlib's synchronous Brotli at quality 1: one native
 * call per record (a CompressionStream pipeline per record measured ~10× slower on 5 KB reports).
 * On the benchmark's report mix (median 6 KB) quality 1 compresses to ~27 % in ~49 µs, against
 * raw DEFLATE level 1 at ~26 % in ~62 µs and level 6 at ~23 % in ~107 µs: storage is cheap,
 * processor CPU is not (`npm run bench:processor` ~+6 % events/s over DEFLATE level 1).
 */
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } };

export async function encodeRecord(header: RecordHeader, payload: string | Uint8Array): Promise<Uint8Array> {
  const head = `${JSON.stringify(header)}\n`;
  const input = typeof payload === "string" ? head + payload : Buffer.concat([Buffer.from(head), payload]);
  return brotliCompressSync(input, BROTLI);
}

export async function decodeRecord(
  bytes: Uint8Array,
): Promise<{ header: RecordHeader; payload: Uint8Array }> {
  const plain = brotliDecompressSync(bytes);
  const nl = plain.indexOf(10);
  if (nl < 0) throw new Error("corrupt segment record: no header line");
  return {
    header: JSON.parse(decoder.decode(plain.subarray(0, nl))) as RecordHeader,
    payload: plain.subarray(nl + 1),
  };
}

/** Concatenates encoded records into one segment body and returns each record's position. */
export function packSegment(records: Uint8Array[]): { body: Uint8Array; refs: SegmentRecordRef[] } {
  let total = 0;
  for (const r of records) total += r.byteLength;
  const body = new Uint8Array(total);
  const refs: SegmentRecordRef[] = [];
  let offset = 0;
  for (const r of records) {
    body.set(r, offset);
    refs.push({ offset, length: r.byteLength });
    offset += r.byteLength;
  }
  return { body, refs };
}

/** Segment keys sort by time and spread writes (R2 allows 1 write/s per key; each key is new). */
export function segmentKey(now: number, batchId: string): string {
  const d = new Date(now).toISOString(); // 2026-11-26T06:13:51.000Z
  return `segments/${d.slice(0, 10)}/${d.slice(11, 13)}/${batchId}`;
}

/** Reads one record with a single range GET. */
export async function readRecord(
  bucket: R2Bucket,
  key: string,
  ref: SegmentRecordRef,
): Promise<{ header: RecordHeader; payload: Uint8Array } | null> {
  const obj = await bucket.get(key, { range: { offset: ref.offset, length: ref.length } });
  if (!obj) return null;
  return decodeRecord(new Uint8Array(await obj.arrayBuffer()));
}
