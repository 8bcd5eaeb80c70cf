// Dead-letter queue consumer: records every message that could not be processed (with the reason
// when the sender gave one) in D1, where the API lists it and `npm run dlq:replay` re-sends it.
//
//   sluice-dlq ─▶ split by project ─▶ scrub (inline payloads; claim-check blobs rewritten) ─▶ D1
//                                                                      └─ D1 failing ─▶ R2 dead-letters/
//
// A message the queue gave up on may hold several projects' items: each project's share becomes
// its own dead letter, so it follows that project's retention (retention.ts) and is replayed on
// its own; a share whose counts the processor applied before the queue gave up is marked `counted`
// (from the ledger, which forgets it after 4 days), so its replay counts nothing. Payloads are
// scrubbed with the item's own policy before anything is stored, like the processor does for events. If D1 refuses a dead letter, it goes to R2 (dead-letters/<id>.json,
// its facts in custom metadata) instead, where the console lists and replays it too.

import type { ShardEnv } from "../../shared/db/shards";
import { DEFAULT_POLICY } from "../../shared/normalize";
import { type ScrubOptions, scrubJson } from "../../shared/policy/scrub";
import { scrubString } from "../../shared/policy/scrub-rules";
import type { IngestItem } from "../../shared/queue-message";
import { deadLetterKey } from "../../shared/storage/dead-letter-store";
import { ledgerId } from "./ledger-sql";
import { resolveProjectShards, sharesHeld } from "./shard-split";

// The R2 fallback lives in shared/storage/dead-letter-store.ts (the console lists and replays it).
export { DEAD_LETTER_PREFIX, deadLetterKey, listFallback } from "../../shared/storage/dead-letter-store";

/** Dead letters whose body names no project are kept this long. */
export const UNOWNED_DEAD_LETTER_DAYS = 30;

export interface DeadLetterRecord {
  id: string;
  queue: string;
  reason: string;
  /** `{"v":1,"deadLetter":{queue,reason},"body":<original body, scrubbed>}` */
  body: string;
  attempts: number;
  projectId: number | null;
  /** R2 blobs the body refers to (claim checks, attachments): kept while the dead letter lives. */
  blobs: string[];
  createdAt: number;
}

type Blobs = Pick<R2Bucket, "get" | "put">;

function parseMaybe(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Scrubs text with a project's rules: structurally when it is JSON, else as one string. */
export function scrubText(text: string, options: ScrubOptions): string {
  const parsed = parseMaybe(text);
  if (typeof parsed === "object" && parsed !== null) {
    const r = scrubJson(parsed, options);
    return r.changed ? JSON.stringify(r.value) : text;
  }
  const fields = options.sensitiveFields.map((f) => f.trim().toLowerCase()).filter((f) => f !== "");
  return scrubString(text, { defaults: options.defaults, scrubIp: options.scrubIpAddresses, fields });
}

/** Scrubs one dead-lettered item: its inline payload, or its claim-check blob in place. */
async function scrubItem(item: IngestItem, blobs: Blobs, refs: string[]): Promise<IngestItem> {
  const options = item.policy?.scrubbing ?? DEFAULT_POLICY.scrubbing;
  if (item.blobKey) refs.push(item.blobKey);
  if (typeof item.payload === "string") return { ...item, payload: scrubText(item.payload, options) };
  if (item.blobKey?.startsWith("claims/") && !item.binary) {
    const obj = await blobs.get(item.blobKey);
    if (obj) {
      const text = await obj.text();
      const clean = scrubText(text, options);
      if (clean !== text) await blobs.put(item.blobKey, clean);
    }
  }
  return item;
}

/** Whether project `pid`'s share of message `id` was counted; null when that cannot be told. */
export type CountedCheck = (id: string, pid: number) => Promise<boolean | null>;

/**
 * Asks the ledger of the project's shard whether its share of the message was applied. The queue
 * delivers the message no more once it is dead-lettered, so the answer is final; it is kept in the
 * dead letter because the ledger forgets the message after the queue's retention (4 days) and a
 * dead letter can be replayed for as long as the project keeps its data.
 */
export function ledgerCountedCheck(env: ShardEnv): CountedCheck {
  return async (id, pid) => {
    try {
      // Where the processor looks: the project's shard, and the one it moved off lately; the id as
      // the ledger keeps it.
      const projectId = String(pid);
      const shards = await resolveProjectShards(env, [projectId]);
      return (await sharesHeld(env, shards, [{ id: ledgerId(id), projectId }])).size > 0;
    } catch (err) {
      console.warn(JSON.stringify({ msg: "dead letter: ledger not readable", error: String(err) }));
      return null;
    }
  };
}

/** Splits one DLQ message into per-project dead letters with scrubbed bodies. */
export async function toDeadLetters(
  msg: { id: string; body: unknown; attempts: number },
  blobs: Blobs,
  now: number,
  countedBefore: CountedCheck = async () => null,
): Promise<DeadLetterRecord[]> {
  const outer = parseMaybe(msg.body);
  const note = isRecord(outer) && isRecord(outer.deadLetter) ? outer.deadLetter : null;
  const inner = note && isRecord(outer) && "body" in outer ? parseMaybe(outer.body) : outer;
  const queue = typeof note?.queue === "string" ? note.queue : "unknown";
  const reason = typeof note?.reason === "string" ? note.reason : "exhausted retries";
  const record = (id: string, body: unknown, projectId: number | null, refs: string[]) => ({
    id,
    queue,
    reason,
    body: JSON.stringify({ v: 1, deadLetter: { queue, reason }, body }),
    attempts: msg.attempts,
    projectId,
    blobs: refs,
    createdAt: now,
  });

  const list = isRecord(inner) ? (Array.isArray(inner.items) ? inner.items : inner.docs) : undefined;
  if (!isRecord(inner) || !Array.isArray(list)) {
    // Not a Sluice batch: kept (scrubbed with the default rules) for inspection.
    const text = typeof inner === "string" ? inner : JSON.stringify(inner);
    return [record(msg.id, scrubText(text ?? "", DEFAULT_POLICY.scrubbing), null, [])];
  }
  const byProject = new Map<string, unknown[]>();
  for (const entry of list) {
    const pid = isRecord(entry) ? String(entry.projectId ?? "") : "";
    let share = byProject.get(pid);
    if (!share) byProject.set(pid, (share = []));
    share.push(entry);
  }
  const outcomes = Array.isArray(inner.outcomes) ? inner.outcomes : [];
  const out: DeadLetterRecord[] = [];
  for (const [pid, entries] of byProject) {
    const many = byProject.size > 1;
    const refs: string[] = [];
    let body: Record<string, unknown>;
    if (Array.isArray(inner.items)) {
      const items = await Promise.all(entries.map((e) => scrubItem(e as IngestItem, blobs, refs)));
      const own = outcomes.filter((o) => isRecord(o) && String(o.projectId) === pid);
      // Each share gets its own ledger id, so replaying every share applies each outcome once.
      body = { ...inner, id: many ? `${String(inner.id)}:${pid}` : inner.id, items };
      if (own.length > 0) body.outcomes = own;
      else delete body.outcomes;
      // Counted before it was dead-lettered: its replay counts nothing, however late it comes.
      const pidNumber = Number(pid);
      if (pid !== "" && Number.isInteger(pidNumber) && (await countedBefore(String(inner.id), pidNumber)))
        body.counted = true;
    } else {
      body = { ...inner, docs: entries }; // search documents come from scrubbed events
    }
    const n = Number(pid);
    out.push(
      record(many ? `${msg.id}:${pid}` : msg.id, body, pid !== "" && Number.isInteger(n) ? n : null, refs),
    );
  }
  return out;
}

const INSERT_SQL = `INSERT INTO dead_letters (id, queue, reason, body, attempts, created_at, project_id)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
// One row per blob and dead letter: a second dead letter of the same item (a poison send repeated
// after a failure) adds its own reference instead of taking over the first one's.
const BLOB_SQL = `INSERT INTO dead_letter_blobs (blob_key, dead_letter_id) VALUES (?, ?)
  ON CONFLICT DO NOTHING`;

/** The D1 statements recording dead letters (rows and their blob references). */
export function deadLetterStatements(db: D1Database, records: DeadLetterRecord[]): D1PreparedStatement[] {
  return records.flatMap((r) => [
    db.prepare(INSERT_SQL).bind(r.id, r.queue, r.reason, r.body, r.attempts, r.createdAt, r.projectId),
    ...r.blobs.map((k) => db.prepare(BLOB_SQL).bind(k, r.id)),
  ]);
}

/** Writes one dead letter to R2, its listing facts in custom metadata (no GET needed to list). */
async function putFallback(blobs: Blobs, r: DeadLetterRecord): Promise<void> {
  await blobs.put(deadLetterKey(r.id), JSON.stringify(r), {
    customMetadata: {
      id: r.id,
      queue: r.queue.slice(0, 200),
      reason: r.reason.slice(0, 500),
      attempts: String(r.attempts),
      createdAt: String(r.createdAt),
      projectId: r.projectId === null ? "" : String(r.projectId),
      blobs: JSON.stringify(r.blobs).slice(0, 1000),
    },
  });
}

export async function recordDeadLetters(
  batch: MessageBatch<unknown>,
  env: ShardEnv & { BLOBS: R2Bucket },
): Promise<void> {
  const now = Date.now();
  const counted = ledgerCountedCheck(env);
  const records = (
    await Promise.all(batch.messages.map((msg) => toDeadLetters(msg, env.BLOBS, now, counted)))
  ).flat();
  try {
    await env.DB.batch(deadLetterStatements(env.DB, records));
  } catch (err) {
    console.error(JSON.stringify({ msg: "dead letters not recorded in D1 as a batch", error: String(err) }));
    // One at a time, so one record D1 refuses (e.g. too large) cannot send the others to R2;
    // if R2 fails too, this throws and the queue retries the batch.
    for (const r of records) {
      try {
        await env.DB.batch(deadLetterStatements(env.DB, [r]));
      } catch {
        await putFallback(env.BLOBS, r);
      }
    }
  }
  batch.ackAll();
}
