// Validates and normalizes a SearchDoc before either backend writes it, so both store the same
// values (times as epoch ms / ISO, keywords capped) and both dead-letter the same broken docs.

import type { SearchDoc } from "../queue-message";
import { searchText } from "./text";

/** Longer keyword values are truncated: ES cannot index huge keywords and nobody filters on them. */
export const MAX_KEYWORD = 512;
/** Search docs are derived data (the raw report is in R2), so oversized text is cut, not rejected. */
export const MAX_MESSAGE = 8192;
export const MAX_STACK = 65_536;
export const MAX_TAGS = 100;

/** A SearchDoc as both backends store it: epoch-ms times, and the tokenized free text added. */
export interface IndexableDoc extends Omit<SearchDoc, "category" | "occurredAt" | "receivedAt"> {
  category: string;
  occurredAt: number;
  receivedAt: number;
  /** Tokenized type + message + stack + tags (text.ts): the only free-text field either engine matches. */
  text: string;
}

/**
 * Times are accepted from 1970-01-01 (earlier is an unset or broken device clock) to the end of the
 * year 9999, in epoch ms. Past that, a finite number still cannot be stored: beyond ±8.64e15 ms
 * `toISOString()` throws (building the ES bulk body, and on every FTS search that returns the doc),
 * and a 5+-digit year gets a signed 6-digit ISO form that ES's `strict_date_optional_time` rejects,
 * and a monthly index name (`<prefix>-YYYY.MM`) the retention job's `\d{4}` pattern never drops.
 */
export const MIN_TIME = 0;
export const MAX_TIME = Date.UTC(10_000, 0, 1) - 1;

/**
 * Returns the normalized doc, or the reason it can never be indexed.
 * Only what every backend needs is enforced; ES may still reject a doc its mapping cannot take.
 * Never throws: a doc that cannot even be read (a cyclic or BigInt tag value, which a v8-serialized
 * queue message can carry) is dead, so one bad doc never fails its whole queue batch.
 */
export function prepareDoc(doc: SearchDoc): IndexableDoc | { dead: string } {
  try {
    return normalize(doc);
  } catch (err) {
    return { dead: `invalid document: ${errorText(err)}` };
  }
}

function normalize(doc: SearchDoc): IndexableDoc | { dead: string } {
  if (doc === null || typeof doc !== "object") return { dead: "invalid document: not an object" };
  if (!isId(doc.eventId)) return { dead: "invalid document: eventId" };
  if (!isId(doc.projectId)) return { dead: "invalid document: projectId" };
  const occurredAt = time(doc.occurredAt);
  if (occurredAt === null) return { dead: "invalid document: occurredAt" };
  const out: IndexableDoc = {
    eventId: doc.eventId,
    projectId: doc.projectId,
    groupId: keyword(doc.groupId),
    fingerprint: keyword(doc.fingerprint),
    category: keyword(doc.category) ?? "error",
    occurredAt,
    receivedAt: time(doc.receivedAt) ?? occurredAt,
    type: keyword(doc.type),
    message: (typeof doc.message === "string" ? doc.message : String(doc.message ?? "")).slice(
      0,
      MAX_MESSAGE,
    ),
    level: keyword(doc.level) ?? "error",
    release: keyword(doc.release),
    environment: keyword(doc.environment),
    user: keyword(doc.user),
    platform: keyword(doc.platform),
    stack: typeof doc.stack === "string" ? doc.stack.slice(0, MAX_STACK) : "",
    tags: tags(doc.tags),
    ...pointer(doc),
    text: "",
  };
  out.text = searchText(out);
  return out;
}

/** The segment pointer, whole or not at all (a document without one is searchable, not viewable). */
function pointer(doc: SearchDoc): Pick<SearchDoc, "segmentKey" | "segmentOffset" | "segmentLength"> {
  const { segmentKey: key, segmentOffset: offset, segmentLength: length } = doc;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEYWORD) return {};
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return {};
  if ((offset as number) < 0 || (length as number) <= 0) return {};
  return { segmentKey: key, segmentOffset: offset, segmentLength: length };
}

/** Tag values become (capped) strings, so "k:5" matches the same way in both engines. */
function tags(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v || typeof v !== "object" || Array.isArray(v)) return out;
  for (const [k, raw] of Object.entries(v).slice(0, MAX_TAGS)) {
    if (raw === null || raw === undefined) continue;
    const value = typeof raw === "string" ? raw : typeof raw === "object" ? JSON.stringify(raw) : String(raw);
    out[k.slice(0, MAX_KEYWORD)] = value.slice(0, MAX_KEYWORD);
  }
  return out;
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= 256;
}

function time(v: unknown): number | null {
  const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) return null;
  const t = Math.trunc(ms);
  return t >= MIN_TIME && t <= MAX_TIME ? t : null;
}

/**
 * Epoch ms as ISO 8601, or "" when it has none. For reading stored docs: rows indexed before times
 * were range-checked may hold values `toISOString()` throws on, and one such row must not turn every
 * search of its project into an error.
 */
export function isoTime(ms: number | null | undefined): string {
  if (typeof ms !== "number" || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return "";
  return new Date(ms).toISOString();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Non-strings pass through unchanged (despite the type) so that ES's mapping rejects them as a real
 * mapping error; the FTS backend checks them with `nonStringField` to dead-letter the same docs.
 */
function keyword(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v.slice(0, MAX_KEYWORD) : (v as string);
}

const KEYWORDS = [
  "groupId",
  "fingerprint",
  "category",
  "type",
  "level",
  "release",
  "environment",
  "user",
  "platform",
] as const;

/** The first keyword field holding something other than a string or null, if any. */
export function nonStringField(doc: IndexableDoc): string | null {
  for (const f of KEYWORDS) if (doc[f] !== null && typeof doc[f] !== "string") return f;
  return null;
}
