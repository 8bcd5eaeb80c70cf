// Sentry envelope codec: the edge's first look at a request body. Byte-exact and binary-safe like
// Relay's `Envelope::parse_bytes`, so attachments survive untouched and unknown items are kept.

import { badRequest, tooLarge } from "../http/errors";
import { normalizeUuid } from "../ids";

export type ItemHeaders = Record<string, unknown> & { type: string };

export interface EnvelopeItem {
  headers: ItemHeaders;
  /** A view into the request bytes (no copy); exactly `length` bytes when the header gave one. */
  payload: Uint8Array;
}

export interface Envelope {
  headers: Record<string, unknown>;
  items: EnvelopeItem[];
}

const NL = 0x0a;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

const invalid = (cause: string) => badRequest("invalid envelope", [cause]);

/** The envelope header, read on its own so that auth (a tunnel's `dsn`) precedes item parsing. */
export interface EnvelopeHead {
  headers: Record<string, unknown>;
  /** Byte offset where the first item header may start. */
  offset: number;
}

export interface ParseOptions {
  /**
   * Most items to accept: parsing stops with 413 at the next one, so a body of a million tiny
   * items costs `maxItems` items of work, not a million.
   */
  maxItems?: number;
}

/**
 * Parses an envelope: a JSON header line, then items of `header\npayload`, each payload either
 * `length` bytes long or running to the next `\n` / EOF. Throws `badRequest("invalid envelope")`,
 * or 413 past `options.maxItems` items.
 *
 * @example parseEnvelope(new TextEncoder().encode('{}\n{"type":"event"}\n{"message":"hi"}'))
 */
export function parseEnvelope(bytes: Uint8Array, options: ParseOptions = {}): Envelope {
  return parseEnvelopeItems(bytes, parseEnvelopeHeader(bytes), options);
}

/**
 * Reads only the envelope header (its first JSON line). Throws `badRequest("invalid envelope")`.
 *
 * @example parseEnvelopeHeader(bytes).headers.dsn
 */
export function parseEnvelopeHeader(bytes: Uint8Array): EnvelopeHead {
  const first = readHeader(bytes, 0, "envelope header");
  if (!first) throw invalid("missing envelope header");
  checkEnvelopeHeaders(first.value, first.text);
  // Relay: the header may end at EOF; otherwise its newline is consumed.
  return { headers: first.value, offset: first.end + 1 };
}

/** Parses the items that follow `head` (from `parseEnvelopeHeader` on the same bytes). */
export function parseEnvelopeItems(
  bytes: Uint8Array,
  head: EnvelopeHead,
  options: ParseOptions = {},
): Envelope {
  const maxItems = options.maxItems ?? Number.POSITIVE_INFINITY;
  const items: EnvelopeItem[] = [];
  let offset = head.offset;
  while (offset < bytes.length) {
    const at = offset;
    const header = readHeader(bytes, offset, `item header at byte ${at}`);
    if (!header) throw invalid(`unexpected end of file: expected an item header at byte ${at}`);
    if (items.length >= maxItems) {
      throw tooLarge(`envelope exceeded size limits: more than ${maxItems} items`);
    }
    const itemHeaders = checkItemHeaders(header.value, at);
    const payloadStart = Math.min(header.end + 1, bytes.length);
    let payloadEnd: number;
    const length = itemHeaders.length;
    if (typeof length === "number") {
      payloadEnd = payloadStart + length;
      if (payloadEnd > bytes.length) {
        throw invalid(
          `unexpected end of file: item '${itemHeaders.type}' declares length ${length} but only ${bytes.length - payloadStart} bytes follow`,
        );
      }
      if (payloadEnd < bytes.length && bytes[payloadEnd] !== NL) {
        throw invalid(
          `missing newline after payload of item '${itemHeaders.type}' (byte ${payloadEnd} after length ${length})`,
        );
      }
    } else {
      const nl = bytes.indexOf(NL, payloadStart);
      payloadEnd = nl === -1 ? bytes.length : nl;
    }
    items.push({ headers: itemHeaders, payload: bytes.subarray(payloadStart, payloadEnd) });
    offset = payloadEnd + 1;
  }
  return { headers: head.headers, items };
}

interface RawHeader {
  value: Record<string, unknown>;
  text: string;
  /** Index just past the closing `}` (where the newline must be). */
  end: number;
}

/**
 * Reads one JSON object starting at `start`. Like Relay's streaming JSON reader it skips leading
 * whitespace and ends at the closing brace, after which only `\n` or EOF may follow.
 */
function readHeader(bytes: Uint8Array, start: number, what: string): RawHeader | null {
  let i = start;
  while (i < bytes.length && isJsonSpace(bytes[i]!)) i++;
  if (i >= bytes.length) return null;
  if (bytes[i] !== 0x7b) throw invalid(`invalid ${what}: expected a JSON object`);
  const end = scanObjectEnd(bytes, i);
  if (end === -1) throw invalid(`invalid ${what}: unterminated JSON object`);
  if (end === TOO_DEEP) {
    throw invalid(`invalid ${what}: nested more than ${MAX_HEADER_DEPTH} levels deep`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(i, end));
  } catch {
    throw invalid(`invalid ${what}: not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(`invalid ${what}: ${(e as Error).message}`);
  }
  if (end < bytes.length && bytes[end] !== NL) {
    throw invalid(`missing newline after ${what} (byte ${end})`);
  }
  return { value: value as Record<string, unknown>, text, end };
}

const isJsonSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * Deepest nesting a header may have: serde_json's recursion limit, which Relay parses headers with.
 * Headers travel with their items and are serialised again (JSON.stringify recurses): without a
 * limit, 40 KB of brackets overflowed the stack after the quota had been counted.
 */
export const MAX_HEADER_DEPTH = 128;
const TOO_DEEP = -2;

/**
 * Index after the `}` matching the `{` at `start`, honouring strings and escapes; -1 if none,
 * TOO_DEEP past MAX_HEADER_DEPTH levels.
 */
function scanObjectEnd(bytes: Uint8Array, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > MAX_HEADER_DEPTH) return TOO_DEEP;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const DUPLICATE_CHECKS = ["sent_at", "event_id"].map((k) => [k, new RegExp(`"${k}"\\s*:`, "g")] as const);

function checkEnvelopeHeaders(h: Record<string, unknown>, text: string): void {
  if (h.event_id != null && normalizeUuid(h.event_id) === null) {
    throw invalid("invalid envelope header: event_id is not a UUID");
  }
  if (h.sent_at != null && (typeof h.sent_at !== "string" || Number.isNaN(Date.parse(h.sent_at)))) {
    throw invalid("invalid envelope header: sent_at is not an RFC 3339 timestamp");
  }
  // Relay's typed header struct rejects duplicate known fields; JSON.parse would keep the last.
  for (const [key, re] of DUPLICATE_CHECKS) {
    if ((text.match(re)?.length ?? 0) > 1)
      throw invalid(`invalid envelope header: duplicate field \`${key}\``);
  }
}

const isU32 = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function checkItemHeaders(h: Record<string, unknown>, at: number): ItemHeaders {
  if (typeof h.type !== "string") {
    throw invalid(`invalid item header at byte ${at}: missing field \`type\``);
  }
  for (const key of ["length", "item_count"]) {
    if (h[key] != null && !isU32(h[key])) {
      throw invalid(`invalid item header at byte ${at}: \`${key}\` must be a non-negative integer`);
    }
  }
  if (h.length === null) delete h.length;
  return h as ItemHeaders;
}

/**
 * Serializes an envelope the way Relay does: every item gets an explicit `length` and a trailing
 * newline, so binary payloads and payloads containing `\n` round-trip.
 */
export function serializeEnvelope(env: Envelope): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`${JSON.stringify(env.headers)}\n`)];
  for (const item of env.items) {
    const headers = { ...item.headers, length: item.payload.length };
    parts.push(encoder.encode(`${JSON.stringify(headers)}\n`), item.payload, encoder.encode("\n"));
  }
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** UTF-8 text of an item payload (JSON items); throws badRequest on invalid UTF-8 or JSON. */
export function itemJson(item: EnvelopeItem): unknown {
  try {
    return JSON.parse(utf8.decode(item.payload));
  } catch (e) {
    throw badRequest("invalid envelope", [
      `item '${item.headers.type}': invalid JSON payload: ${(e as Error).message}`,
    ]);
  }
}

export { createsEvent, type DataCategory, itemCategory, sluiceCategory } from "./categories";
