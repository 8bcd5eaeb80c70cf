// Packed R2 segments (Raygun's file-store lesson: one object write per small report is ruinous at
// volume). A processor batch writes ONE object holding every record; each record is compressed on
// its own (Brotli) so that one event is read back with a single R2 range GET. The event index (or,
// for items without a search document, a D1 pointer row) keeps (key, offset, length).
//
// The object ends with its own directory (which event of which project is where), found through
// the object's custom metadata: what a segment holds is known from R2 alone, so D1 keeps no list
// of event ids per segment (bytes per event held for the whole retention), and a lost event index
// can be rebuilt from the segments.
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

/** What the directory says of one record. */
export interface DirectoryEntry extends SegmentRecordRef {
  eventId: string;
  projectId: string;
  category: string;
}

/** The R2 custom-metadata field that locates the directory: "<offset>+<length>". */
export const DIRECTORY_METADATA = "directory";

/**
 * Concatenates encoded records into one segment body, followed by its directory (one Brotli
 * record: a JSON array of [eventId, projectId, category, offset, length], in record order), and
 * returns each record's position and the directory's (for the object's custom metadata).
 */
export function packSegment(
  records: Uint8Array[],
  entries: Pick<DirectoryEntry, "eventId" | "projectId" | "category">[],
): { body: Uint8Array; refs: SegmentRecordRef[]; directory: string } {
  if (entries.length !== records.length) throw new Error("packSegment: one directory entry per record");
  const refs: SegmentRecordRef[] = [];
  let offset = 0;
  for (const r of records) {
    refs.push({ offset, length: r.byteLength });
    offset += r.byteLength;
  }
  const listing = entries.map((e, i) => [
    e.eventId,
    e.projectId,
    e.category,
    refs[i]!.offset,
    refs[i]!.length,
  ]);
  const dir = brotliCompressSync(JSON.stringify(listing), BROTLI);
  const body = new Uint8Array(offset + dir.byteLength);
  for (let i = 0; i < records.length; i++) body.set(records[i]!, refs[i]!.offset);
  body.set(dir, offset);
  return { body, refs, directory: `${offset}+${dir.byteLength}` };
}

/**
 * The directory of a segment, from R2 alone (a HEAD for its position, one range GET); null for an
 * object that is gone or was written before segments carried one.
 */
export async function readDirectory(bucket: R2Bucket, key: string): Promise<DirectoryEntry[] | null> {
  const head = await bucket.head(key);
  const at = /^(\d+)\+(\d+)$/.exec(head?.customMetadata?.[DIRECTORY_METADATA] ?? "");
  if (!at) return null;
  const obj = await bucket.get(key, { range: { offset: Number(at[1]), length: Number(at[2]) } });
  if (!obj) return null;
  const listing = JSON.parse(
    decoder.decode(brotliDecompressSync(new Uint8Array(await obj.arrayBuffer()))),
  ) as [string, string, string, number, number][];
  return listing.map(([eventId, projectId, category, offset, length]) => ({
    eventId,
    projectId,
    category,
    offset,
    length,
  }));
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
