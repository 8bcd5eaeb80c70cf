// Packed R2 segments (Raygun's file-store lesson: one object write per small report is ruinous at
// volume). A processor batch writes ONE object holding every record. Records are compressed
// (Brotli) in blocks of about BLOCK_BYTES, a project's records together, so that one event is read
// back with a single R2 range GET (its block) and one decompression of at most a block. The event
// index (or, for items without a search document, a D1 pointer row) keeps (key, offset, length) of
// the event's block; the block says which of its records is which.
//
// Why blocks rather than one compressed record each: reports of one app share most of their
// structure (SDK keys, environment, frames of the same code), which a record compressed alone
// cannot use. On the benchmark's report mix, 64 KB blocks store ~34 % fewer bytes (R2 storage is
// the largest term after requests and queue operations in the cost model) and compress ~33 %
// faster (Brotli's per-call set-up is paid once per block, not per report). 128 KB blocks store
// another ~10 % fewer bytes and compress ~10 % faster than 64 KB (Node, Brotli q1 on the bench's
// report mix; 256 KB stores less again but compresses no faster), for a read that fetches ~20 KB
// and inflates at most ~128 KB to find one event.
//
// The object ends with its own directory (which event of which project is where), found through
// the object's custom metadata: what a segment holds is known from R2 alone, so D1 keeps no list
// of event ids per segment (bytes per event held for the whole retention), and a lost event index
// can be rebuilt from the segments.
//
// Record: one line of JSON header (ids, protocol, client, protocol metadata, the project's
// processing policy), "\n", then the payload bytes as stored (scrubbed of PII, otherwise as
// received). The canonical event is not stored twice: shared/normalize.ts rebuilds it.
// Block (before compression): the line BLOCK_MAGIC, the records back to back, then "\n" and a last
// line `{"block":1,"lengths":[...]}` (each record's byte length, in order; last, so that a block is
// written in one pass into one reused buffer, with no copy of any record). Segments written before
// blocks hold one compressed record per range, which starts with its header line (`{"eventId"`,
// never the magic): decodeRecord reads both.

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

/** Which record of a block a reader wants. */
export interface RecordKey {
  eventId: string;
  projectId: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * node:zlib's synchronous Brotli at quality 1: one native call per block (a CompressionStream
 * pipeline measured ~10× slower on 5 KB reports). Quality 1 against the report mix: storage is
 * cheap, processor CPU is not (`npm run bench:processor`). The size hint lets Brotli size its window
 * to the block: without it every call sets up the default 4 MB window, ~17 % of a 64 KB block's
 * compression time on the report mix, for the same output.
 */
const brotli = (input: Uint8Array) =>
  brotliCompressSync(input, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: input.byteLength },
  });
/** Uncompressed bytes per block: a read fetches and inflates at most about this much more. */
export const BLOCK_BYTES = 128 * 1024;
const NL = 10;

/** Opens every block (an old-format record opens with its header: `{"eventId"`). */
const BLOCK_MAGIC = "sluice-block 1\n";
const MAGIC_BYTES = encoder.encode(BLOCK_MAGIC);

/** A record to store: its header and its payload as stored. */
export interface SegmentRecord {
  header: RecordHeader;
  payload: string | Uint8Array;
}

function splitRecord(plain: Uint8Array): { header: RecordHeader; payload: Uint8Array } {
  const nl = plain.indexOf(NL);
  if (nl < 0) throw new Error("corrupt segment record: no header line");
  return {
    header: JSON.parse(decoder.decode(plain.subarray(0, nl))) as RecordHeader,
    payload: plain.subarray(nl + 1),
  };
}

function isBlock(plain: Uint8Array): boolean {
  if (plain.byteLength < MAGIC_BYTES.byteLength) return false;
  for (let i = 0; i < MAGIC_BYTES.byteLength; i++) if (plain[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

/**
 * The record `want` names from one stored range (a block, or a record of a segment written before
 * blocks); null if the block holds no such record.
 */
export function decodeRecord(
  bytes: Uint8Array,
  want: RecordKey,
): { header: RecordHeader; payload: Uint8Array } | null {
  const plain: Uint8Array = brotliDecompressSync(bytes);
  if (!isBlock(plain)) return splitRecord(plain);
  const last = plain.lastIndexOf(NL);
  const trailer = JSON.parse(decoder.decode(plain.subarray(last + 1))) as {
    block?: unknown;
    lengths?: unknown;
  };
  if (trailer.block !== 1 || !Array.isArray(trailer.lengths))
    throw new Error("corrupt segment block trailer");
  let at = MAGIC_BYTES.byteLength;
  for (const length of trailer.lengths as number[]) {
    const record = splitRecord(plain.subarray(at, at + length));
    if (record.header.eventId === want.eventId && record.header.projectId === want.projectId) return record;
    at += length;
  }
  return null;
}

/**
 * Where blocks are written before compression, reused from batch to batch: a block's records are
 * encoded straight into it (no buffer per record, no concatenation), so a batch leaves only its
 * compressed blocks behind. Grown for an oversize record, and not kept once grown that far.
 */
let scratch = new Uint8Array(2 * BLOCK_BYTES);
const SCRATCH_KEEP = 4 * BLOCK_BYTES;

/** What the directory says of one record. */
export interface DirectoryEntry extends SegmentRecordRef {
  eventId: string;
  projectId: string;
  category: string;
}

/** The R2 custom-metadata field that locates the directory: "<offset>+<length>". */
export const DIRECTORY_METADATA = "directory";

/**
 * Packs records into compressed blocks, a project's records together, followed by the segment's
 * directory (one compressed JSON array of [eventId, projectId, category, offset, length], in entry
 * order); returns each entry's block position and the directory's (for the object's custom
 * metadata). `recordOf(i)` is asked block by block, and nothing of a record is kept once its block
 * is compressed.
 */
export function packSegment(
  entries: Pick<DirectoryEntry, "eventId" | "projectId" | "category">[],
  recordOf: (i: number) => SegmentRecord,
): { body: Uint8Array; refs: SegmentRecordRef[]; directory: string } {
  // A project's records side by side (the sort is stable: arrival order within a project).
  const order = entries
    .map((_, i) => i)
    .sort((x, y) => {
      const [a, b] = [entries[x]!.projectId, entries[y]!.projectId];
      return a < b ? -1 : a > b ? 1 : 0;
    });
  const refs: SegmentRecordRef[] = new Array(entries.length);
  const blocks: Uint8Array[] = [];
  let offset = 0;
  let members: number[] = [];
  let lengths: number[] = [];
  let at = 0;
  const reserve = (n: number) => {
    if (at + n <= scratch.byteLength) return;
    const grown = new Uint8Array(Math.max(2 * scratch.byteLength, at + n));
    grown.set(scratch.subarray(0, at));
    scratch = grown;
  };
  const write = (text: string | Uint8Array) => {
    if (typeof text === "string") {
      // Room for one byte per UTF-16 unit (JSON is mostly ASCII), more only if the text needs it:
      // never three times a large payload's length up front.
      let rest = text;
      for (;;) {
        reserve(rest.length + 4);
        const { read, written } = encoder.encodeInto(rest, scratch.subarray(at));
        at += written;
        if (read >= rest.length) break;
        rest = rest.slice(read);
        // The rest at its worst (3 bytes per unit): one more growth at most, not a doubling per pass.
        reserve(3 * rest.length);
      }
    } else {
      reserve(text.byteLength);
      scratch.set(text, at);
      at += text.byteLength;
    }
  };
  const open = () => {
    at = 0;
    write(MAGIC_BYTES);
  };
  const close = () => {
    write(`\n${JSON.stringify({ block: 1, lengths })}`);
    const block = brotli(scratch.subarray(0, at));
    for (const i of members) refs[i] = { offset, length: block.byteLength };
    blocks.push(block);
    offset += block.byteLength;
    members = [];
    lengths = [];
    if (scratch.byteLength > SCRATCH_KEEP) scratch = new Uint8Array(2 * BLOCK_BYTES);
  };
  for (const i of order) {
    if (members.length > 0 && entries[members[0]!]!.projectId !== entries[i]!.projectId) close();
    if (members.length === 0) open();
    const { header, payload } = recordOf(i);
    const head = `${JSON.stringify(header)}\n`;
    // A record that would take the block past its size opens the next one. Text is judged by its
    // UTF-16 length (never more than its UTF-8 size), so a block of non-ASCII text may end past
    // BLOCK_BYTES; a record is never moved once written (that would copy it).
    const size = head.length + (typeof payload === "string" ? payload.length : payload.byteLength);
    if (members.length > 0 && at + size > BLOCK_BYTES) {
      close();
      open();
    }
    const start = at;
    write(head);
    write(payload);
    members.push(i);
    lengths.push(at - start);
  }
  if (members.length > 0) close();
  const listing = entries.map((e, i) => [
    e.eventId,
    e.projectId,
    e.category,
    refs[i]!.offset,
    refs[i]!.length,
  ]);
  const dir = brotli(encoder.encode(JSON.stringify(listing)));
  const body = new Uint8Array(offset + dir.byteLength);
  let pos = 0;
  for (const block of blocks) {
    body.set(block, pos);
    pos += block.byteLength;
  }
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

/** Reads one record with a single range GET (its block); null if the object or record is gone. */
export async function readRecord(
  bucket: R2Bucket,
  key: string,
  ref: SegmentRecordRef,
  want: RecordKey,
): Promise<{ header: RecordHeader; payload: Uint8Array } | null> {
  const obj = await bucket.get(key, { range: { offset: ref.offset, length: ref.length } });
  if (!obj) return null;
  return decodeRecord(new Uint8Array(await obj.arrayBuffer()), want);
}
