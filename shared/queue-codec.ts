// The ingest queue's wire format. A message packs several items; their payloads (already JSON
// text) are appended raw after one header line instead of being escaped into a JSON string, so
// neither the edge nor the processor pays to escape or unescape kilobytes per report:
//
//   {"v":2,"id":"…","items":[{…item fields…,"pl":<payload length in UTF-16 units, -1 if none>}],"outcomes":[…]}\n
//   <payload 0><payload 1>…
//
// A payload containing NUL (which ends a queue text message) is sent JSON-escaped instead ("pe":1).
// Version 1 (a plain JSON IngestBatch) is still decoded, so older messages and dead letters replay.

import type { IngestBatch, IngestItem, OutcomeRecord } from "./queue-message";

const encoder = new TextEncoder();
let scratch = new Uint8Array(64 * 1024);

/** UTF-8 byte length of a string, computed natively (encodeInto) without keeping the bytes. */
export function utf8Length(s: string): number {
  if (s.length * 3 > scratch.byteLength)
    scratch = new Uint8Array(Math.max(s.length * 3, scratch.byteLength * 2));
  return encoder.encodeInto(s, scratch).written;
}

/** An item ready to pack: its header JSON (without payload) and its payload text and size. */
export interface PackedItem {
  header: string;
  payload: string;
  /** UTF-8 bytes of the header alone (what a claim check still carries). */
  headerBytes: number;
  /** UTF-8 bytes of header + payload. */
  bytes: number;
}

export function packItem(item: IngestItem): PackedItem {
  const payload = item.payload;
  // Queue text messages end at a NUL character: such a payload travels JSON-escaped ("pe":1).
  const escaped = payload?.includes("\u0000");
  const body = payload === undefined ? "" : escaped ? JSON.stringify(payload) : payload;
  const header = `${itemJson(item)},"pl":${payload === undefined ? -1 : body.length}${escaped ? ',"pe":1' : ""}}`;
  // Sizes in UTF-8 bytes, what the queue's 128 KB limit counts: a header or payload of non-ASCII
  // text is up to three times its length. `size` is the payload's UTF-8 size when the producer knows
  // it (the bytes it read), and is exact for the raw payload; an escaped one is measured.
  const payloadBytes =
    payload === undefined
      ? 0
      : !escaped && item.size > 0 && item.size >= body.length
        ? item.size
        : utf8Length(body);
  const headerBytes = utf8Length(header);
  return { header, payload: body, headerBytes, bytes: headerBytes + payloadBytes + 1 };
}

/**
 * JSON of an object many items share, kept per object: every item of a project carries the one
 * policy object of its cache entry (workers/edge/project-cache.ts), built once and never changed
 * afterwards, which is what makes keeping its text by identity sound. (A request's client is
 * stringified each time: a WeakMap entry per request cost more than the JSON it saved.)
 */
const shared = new WeakMap<object, string>();
function sharedJson(o: object): string {
  let json = shared.get(o);
  if (json === undefined) shared.set(o, (json = JSON.stringify(o)));
  return json;
}

/**
 * An item's fields without its payload, as JSON lacking its closing brace. Written field by field
 * rather than by stringifying the whole item each time (the header was the edge's largest cost
 * after JSON.parse itself); JSON.parse reads it back to the same item.
 */
function itemJson(item: IngestItem): string {
  const q = JSON.stringify;
  let out = `{"protocol":${q(item.protocol)},"category":${q(item.category)},"itemType":${q(item.itemType)},"projectId":${q(item.projectId)},"eventId":${q(item.eventId)},"receivedAt":${q(item.receivedAt)},"client":${q(item.client)},"size":${q(item.size)}`;
  if (item.blobKey !== undefined) out += `,"blobKey":${q(item.blobKey)}`;
  if (item.meta !== undefined) out += `,"meta":${q(item.meta)}`;
  if (item.binary !== undefined) out += `,"binary":${q(item.binary)}`;
  if (item.policy !== undefined) out += `,"policy":${sharedJson(item.policy)}`;
  return out;
}

/** Every field of an item, so that a new one fails the type check until `itemJson` writes it. */
const ITEM_FIELDS: Record<keyof IngestItem, "written" | "payload"> = {
  protocol: "written",
  category: "written",
  itemType: "written",
  projectId: "written",
  eventId: "written",
  receivedAt: "written",
  client: "written",
  payload: "payload",
  blobKey: "written",
  size: "written",
  meta: "written",
  binary: "written",
  policy: "written",
};
void ITEM_FIELDS;

/** One message body from packed items (and the outcomes of what the edge dropped). */
export function encodeMessage(id: string, items: PackedItem[], outcomes: OutcomeRecord[] | null): string {
  let head = `{"v":2,"id":"${id}","items":[`;
  for (let i = 0; i < items.length; i++) head += (i > 0 ? "," : "") + items[i]!.header;
  head += "]";
  if (outcomes && outcomes.length > 0) head += `,"outcomes":${JSON.stringify(outcomes)}`;
  head += "}\n";
  let out = head;
  for (const it of items) out += it.payload;
  return out;
}

/** Decodes a message body of either version; throws on anything else. */
export function decodeMessage(body: unknown): IngestBatch {
  if (typeof body !== "string") {
    if (body && typeof body === "object" && Array.isArray((body as IngestBatch).items))
      return body as IngestBatch;
    throw new Error("message body is not an ingest batch");
  }
  const nl = body.indexOf("\n");
  if (nl < 0 || !body.startsWith('{"v":2')) {
    const parsed = JSON.parse(body) as IngestBatch;
    if (!parsed || !Array.isArray(parsed.items)) throw new Error("message body is not an ingest batch");
    return parsed;
  }
  const header = JSON.parse(body.slice(0, nl)) as IngestBatch & {
    items: (IngestItem & { pl: number; pe?: 1 })[];
  };
  if (!Array.isArray(header.items)) throw new Error("message header has no items");
  let offset = nl + 1;
  for (const item of header.items) {
    const { pl, pe } = item;
    delete (item as { pl?: number }).pl;
    delete (item as { pe?: 1 }).pe;
    if (pl >= 0) {
      if (offset + pl > body.length) throw new Error("message payloads are truncated");
      const text = body.slice(offset, offset + pl);
      item.payload = pe ? (JSON.parse(text) as string) : text;
      offset += pl;
    }
  }
  if (offset !== body.length) throw new Error("message has trailing bytes after its payloads");
  return header;
}
