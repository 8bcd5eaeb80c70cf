// The processor's view of the metadata shards (shared/db/shards.ts): which shard each project of a
// batch lives on, which projects' shares of its messages the shards' ledgers already hold, and the
// split of a batch's D1 writes into one transaction per shard. The ledger holds shares (a message's
// items and edge outcomes of one project), so a retry after one shard's transaction failed counts
// only the shares not yet applied, and a project that moved is looked up on the shards it left too.

import { foldAfterMs, foldDue, foldGroupDeltas } from "../../shared/db/group-fold";
import { type Placement, projectPlacements, type ShardEnv, shardDbs } from "../../shared/db/shards";
import type { IngestBatch } from "../../shared/queue-message";
import { settleAll } from "../../shared/settle-all";
import { type D1WriteInput, type StoredRef, writeBatch } from "./d1-writes";
import { ledgerHolds } from "./ledger-sql";
import { QUEUE_RETENTION_MS } from "./queue-retention";

/** Where each project of a batch lives; a project the control database no longer knows goes to shard 0. */
export interface ShardMap {
  shardOf(projectId: string): number;
  /**
   * The shards the project left while the queue can still redeliver a message sent before
   * (QUEUE_RETENTION_MS): their ledgers may hold shares applied there before the move (a move
   * copies no ledger) or by a batch that read the old pointer.
   */
  previousShardsOf(projectId: string): number[];
}

export async function resolveShards(env: ShardEnv, bodies: IngestBatch[]): Promise<ShardMap> {
  return resolveProjectShards(env, new Set(bodies.flatMap(projectsOf)));
}

/** Where each of `ids` lives, and the shards it left within the queue's retention. */
export async function resolveProjectShards(env: ShardEnv, ids: Iterable<string>): Promise<ShardMap> {
  const count = shardDbs(env).length;
  const known = count === 1 ? new Map<string, Placement>() : await projectPlacements(env, ids);
  const now = Date.now();
  const shardOf = (projectId: string) => known.get(String(Number(projectId)))?.shard ?? 0;
  const previousShardsOf = (projectId: string) => {
    const p = known.get(String(Number(projectId)));
    if (!p) return [];
    const shards: number[] = [];
    for (const [s, at] of p.left)
      if (s !== p.shard && s >= 0 && s < count && now - at <= QUEUE_RETENTION_MS) shards.push(s);
    return shards;
  };
  return { shardOf, previousShardsOf };
}

/**
 * The ledger key of one project's share of a message. The ledger records shares, not messages: a
 * message can carry several projects' items, each project's counts live on its own shard, and a
 * project can move to another shard (workers/console/move-project.ts), where its shares are then
 * looked up as well as on the shards it left. (`@` never occurs in a message id as the ledger keeps it: ledgerId.)
 */
export const shareKey = (messageId: string, projectId: string | number) =>
  `${messageId}@${String(Number(projectId))}`;

/** The projects a message's items and edge outcomes belong to. */
export function projectsOf(body: IngestBatch): string[] {
  const ids = new Set<string>();
  for (const it of body.items) ids.add(String(Number(it.projectId)));
  for (const o of body.outcomes ?? []) ids.add(String(Number(o.projectId)));
  return [...ids];
}

/**
 * The message ids that mean "this message is applied": its own, and its parents', which the ledger
 * holds when the parent's D1 batch committed before the message was dead-lettered anyway:
 * - a dead letter's per-project share (`<parent>:<projectId>`, dead-letters.ts);
 * - a part of a dead letter too large for one queue message when it was replayed
 *   (`<parent>:replay-<n>`, workers/console/routes/dead-letters.ts), which holds some of its
 *   parent's items (every part has such an id, so no part's own entry is its parent's: a part
 *   applied first must not make the other parts look applied);
 * - both (`<message>:<projectId>:replay-<n>`).
 */
export function ledgerKeys(id: string): string[] {
  const keys = [id];
  for (let k = id, i = k.lastIndexOf(":"); i > 0; i = k.lastIndexOf(":")) {
    if (!/^(?:\d+|replay-\d+)$/.test(k.slice(i + 1))) break;
    k = k.slice(0, i);
    keys.push(k);
  }
  return keys;
}

/**
 * The ledger entries that mean "this project's share of message `id` is applied": the share's key,
 * and the whole message's id as the ledger kept it before it kept shares (rows of the queue's
 * retention, 4 days, written by a processor of the previous release), for the message and its
 * parent alike.
 */
export const shareLookups = (id: string, projectId: string | number): string[] =>
  ledgerKeys(id).flatMap((k) => [shareKey(k, projectId), k]);

/**
 * The share keys of `shares` (a message id as the ledger keeps it, and a project) that a ledger
 * holds, one look-up per shard touched: each share is looked up in the ledger of its project's
 * shard, and of every shard it left lately.
 */
export async function sharesHeld(
  env: ShardEnv,
  shards: ShardMap,
  shares: { id: string; projectId: string }[],
): Promise<Set<string>> {
  const dbs = shardDbs(env);
  const perShard = new Map<number, Map<string, string[]>>();
  for (const { id, projectId } of shares) {
    const key = shareKey(id, projectId);
    const lookups = shareLookups(id, projectId);
    for (const s of [shards.shardOf(projectId), ...shards.previousShardsOf(projectId)])
      (perShard.get(s) ?? perShard.set(s, new Map()).get(s)!).set(key, lookups);
  }
  const held = new Set<string>();
  await Promise.all(
    [...perShard].map(async ([s, byKey]) => {
      const db = dbs[s];
      if (!db) throw new Error(`metadata shard ${s} is not bound (DB_SHARD_${s})`);
      const found = await ledgerHolds(db, [...new Set([...byKey.values()].flat())]);
      for (const [key, lookups] of byKey) if (lookups.some((k) => found.has(k))) held.add(key);
    }),
  );
  return held;
}

/**
 * `share key → applied before` for every project's share of `bodies`. A replayed dead letter
 * marked `counted` is not looked up: the ledger may have forgotten it, and the processor counts
 * nothing of it anyway (process-batch.ts).
 */
export async function appliedBefore(
  env: ShardEnv,
  shards: ShardMap,
  bodies: IngestBatch[],
): Promise<(shareKey: string) => boolean> {
  const shares = bodies
    .filter((b) => b.counted !== true)
    .flatMap((b) => projectsOf(b).map((projectId) => ({ id: b.id, projectId })));
  const held = await sharesHeld(env, shards, shares);
  return (key) => held.has(key);
}

/**
 * Writes each shard's share of the batch as one D1 transaction, all shards at once. Every shard
 * is attempted even when another fails (its ledger then holds its share, so the retry adds only
 * the rest); the first failure is thrown after all have settled. A shard whose group deltas are
 * due (shared/db/group-fold.ts) is folded after its transaction; a failed fold loses nothing (the
 * deltas stay for the next batch or reader) and does not fail the batch.
 */
export async function writeShards(
  env: ShardEnv & { GROUP_FOLD_MS?: string },
  input: Omit<D1WriteInput, "messages" | "segment" | "extra"> & {
    segment: { key: string; bytes: number } | null;
    /** The segment's refs split by shard (`byShard`, computed once by the caller). */
    refsByShard: Map<number, StoredRef[]>;
    messages: Map<number, D1WriteInput["messages"]>;
    /** Statements to write in a shard's transaction (alert minute counts), by shard. */
    extra?: Map<number, NonNullable<D1WriteInput["extra"]>>;
  },
): Promise<{ rowsWritten: number; perShard: number[]; folds: number }> {
  const dbs = shardDbs(env);
  const afterMs = foldAfterMs(env);
  let folds = 0;
  const refsOf = input.refsByShard;
  const touched = [...new Set([...refsOf.keys(), ...input.messages.keys()])].sort((a, b) => a - b);
  const perShard = new Array<number>(dbs.length).fill(0);
  await settleAll(
    touched.map(async (s) => {
      const db = dbs[s];
      if (!db) throw new Error(`metadata shard ${s} is not bound (DB_SHARD_${s})`);
      const refs = refsOf.get(s) ?? [];
      const r = await writeBatch(db, {
        batchId: input.batchId,
        now: input.now,
        segment: input.segment && refs.length > 0 ? { ...input.segment, refs } : null,
        messages: input.messages.get(s) ?? [],
        extra: input.extra?.get(s),
      });
      perShard[s] = r.rowsWritten;
      if (r.backlog && foldDue(r.backlog, input.now, afterMs)) {
        try {
          const f = await foldGroupDeltas(db);
          perShard[s] += f.rowsWritten;
          folds++;
        } catch (err) {
          console.warn(
            JSON.stringify({ msg: "group fold failed; deltas kept", shard: s, error: String(err) }),
          );
        }
      }
    }),
  );
  return { rowsWritten: perShard.reduce((a, b) => a + b, 0), perShard, folds };
}

/** `list` split by metadata shard. */
export function byShard<T>(list: T[], shardOf: (x: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const x of list) {
    const s = shardOf(x);
    const l = out.get(s);
    if (l) l.push(x);
    else out.set(s, [x]);
  }
  return out;
}
