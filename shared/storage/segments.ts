// Packed R2 segments (Raygun's file-store lesson: one object write per small report is ruinous at
// volume). A processor batch writes ONE object holding every record; each record is gzipped on its
// own so that one event is read back with a single R2 range GET. D1 keeps (key, offset, length).
//
// Record (before gzip): one line of JSON header (ids, protocol, client, the canonical event), "\n",
// then the payload bytes as stored (scrubbed of PII, otherwise as received).

export interface RecordHeader {
  eventId: string;
  projectId: string;
  protocol: string;
  itemType: string;
  category: string;
  receivedAt: number;
  client?: unknown;
  meta?: unknown;
  /** The canonical event, for items that have one (errors, transactions). */
  event?: unknown;
}

export interface SegmentRecordRef {
  offset: number;
  length: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function pipeThrough(
  bytes: Uint8Array,
  transform: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(transform));
  return new Uint8Array(await out.arrayBuffer());
}

export async function encodeRecord(header: RecordHeader, payload: string | Uint8Array): Promise<Uint8Array> {
  const head = encoder.encode(`${JSON.stringify(header)}\n`);
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const joined = new Uint8Array(head.byteLength + body.byteLength);
  joined.set(head, 0);
  joined.set(body, head.byteLength);
  return pipeThrough(joined, new CompressionStream("gzip"));
}

export async function decodeRecord(
  bytes: Uint8Array,
): Promise<{ header: RecordHeader; payload: Uint8Array }> {
  const plain = await pipeThrough(bytes, new DecompressionStream("gzip"));
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
