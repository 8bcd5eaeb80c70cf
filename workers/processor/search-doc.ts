// Canonical event → search document (one per stored event; `_id` = event id), carrying the
// pointer to the event's record in its R2 segment: the document is the event's only index entry.
//
// Every field is capped in characters (what the console lists stays readable) and in bytes of JSON
// text (what the index queue counts: a message over 128 KB fails the whole batch). The caps below
// add up to less than MAX_DOC_BYTES however hostile the event (21,000 tags, a 300 KB function name,
// text escaped to 6 bytes a character), so any document fits an index message (process-batch.ts
// packs ≤ 100 KB) with room to spare. Cut, never dropped: the raw report is in R2 either way.
import type { CanonicalEvent } from "../../shared/event";
import { setOwn } from "../../shared/json/own-property";
import type { SearchDoc } from "../../shared/queue-message";
import { clipJson, jsonBytes } from "./json-bytes";

/** The most a document takes as JSON text in UTF-8 (the sum of the budgets below, rounded up). */
export const MAX_DOC_BYTES = 48_000;

const MAX_STACK_LINES = 60;
/** A legit 2,000-character message fits whole, even in CJK (6 KB); only escapes fill the bytes. */
const MESSAGE = { chars: 2000, bytes: 8192 };
/** type, user, release, environment, group id, fingerprint (releases are ≤ 200 chars already). */
const KEYWORD = { chars: 256, bytes: 1024 };
/** Raygun's platform is the client's name as sent. */
const PLATFORM = { chars: 64, bytes: 256 };
/** Per stack line (function and file), and for all lines. */
const LINE = { chars: 300, bytes: 1024 };
const STACK_BYTES = 16_384;
/** Tags as the search backends keep them (shared/search/doc.ts: ≤ 100, ≤ 512 each) and smaller. */
const MAX_TAGS = 100;
const TAG = { chars: 200, bytes: 512 };
const TAGS_BYTES = 12_288;

const cap = (s: string, c: { chars: number; bytes: number }) => clipJson(s, c.chars, c.bytes);
const capOrNull = (s: string | null, c: { chars: number; bytes: number }) =>
  typeof s === "string" ? cap(s, c) : null;

/** Stack lines, innermost frame first, whole lines only, within STACK_BYTES. */
function stackOf(event: CanonicalEvent): string {
  const lines: string[] = [];
  let bytes = 0;
  outer: for (const exc of event.exceptions) {
    for (let i = exc.frames.length - 1; i >= 0 && lines.length < MAX_STACK_LINES; i--) {
      const f = exc.frames[i]!;
      // Each part is cut before they are joined: a 300 KB name is never copied whole.
      const fn = cap(f.function ?? "?", LINE);
      const where = cap(f.module ?? f.filename ?? "", LINE);
      const line = cap(`${fn} ${where}`.trim(), LINE);
      const cost = jsonBytes(line) + 2; // and the "\n" joining it to the next
      if (bytes + cost > STACK_BYTES) break outer;
      lines.push(line);
      bytes += cost;
    }
    if (lines.length >= MAX_STACK_LINES) break;
  }
  return lines.join("\n");
}

/** The first tags that fit TAGS_BYTES, keys and values capped. */
function tagsOf(tags: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  let bytes = 0;
  for (const k in tags) {
    if (n >= MAX_TAGS) break;
    const v = tags[k];
    if (typeof v !== "string") continue;
    const key = cap(k, TAG);
    const value = cap(v, TAG);
    const cost = jsonBytes(key) + jsonBytes(value) + 6; // "key":"value",
    if (bytes + cost > TAGS_BYTES) break;
    setOwn(out, key, value); // "__proto__" stays a tag
    n++;
    bytes += cost;
  }
  return out;
}

export function toSearchDoc(
  event: CanonicalEvent,
  groupId: string | null,
  fingerprint: string | null,
  segment: { key: string; offset: number; length: number } | null = null,
): SearchDoc {
  const user = event.user ? (event.user.id ?? event.user.email ?? event.user.username ?? null) : null;
  return {
    eventId: event.eventId,
    projectId: event.projectId,
    groupId: capOrNull(groupId, KEYWORD),
    fingerprint: capOrNull(fingerprint, KEYWORD),
    category: event.category,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    type: capOrNull(event.type, KEYWORD),
    message: cap(event.message, MESSAGE),
    level: cap(event.level, KEYWORD),
    release: capOrNull(event.release, KEYWORD),
    environment: capOrNull(event.environment, KEYWORD),
    user: typeof user === "string" ? cap(user, KEYWORD) : null,
    platform: capOrNull(event.platform, PLATFORM),
    stack: stackOf(event),
    tags: tagsOf(event.tags),
    segmentKey: segment?.key ?? null,
    segmentOffset: segment?.offset ?? null,
    segmentLength: segment?.length ?? null,
  };
}
