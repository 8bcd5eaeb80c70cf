// The processor's view of the metadata shards (shared/db/shards.ts): which shard each message of a
// batch touches (its items' and its edge outcomes' projects), which shards' ledgers already hold
// it, and the split of a batch's D1 writes into one transaction per shard. A message spread over
// two shards has a ledger row on each, so a retry after one shard's transaction failed counts only
// on the shard that did not commit: exactly-once holds per shard share.

import { foldAfterMs, foldDue, foldGroupDeltas } from "../../shared/db/group-fold";
import { projectShards, type ShardEnv, shardDbs } from "../../shared/db/shards";
import type { IngestBatch } from "../../shared/queue-message";
import { settleAll } from "../../shared/settle-all";
import { type D1WriteInput, type StoredRef, writeBatch } from "./d1-writes";
import { ledgerHolds } from "./ledger-sql";

/** Where each project of a batch lives; a project the control database no longer knows goes to shard 0. */
export interface ShardMap {
  shardOf(projectId: string): number;
  /** The shards one message touches. */
  shardsOfMessage(body: IngestBatch): number[];
}

export async function resolveShards(env: ShardEnv, bodies: IngestBatch[]): Promise<ShardMap> {
  const ids = new Set<string>();
  for (const b of bodies) {
    for (const it of b.items) ids.add(String(it.projectId));
    for (const o of b.outcomes ?? []) ids.add(String(o.projectId));
  }
  const count = shardDbs(env).length;
  const known = count === 1 ? new Map<string, number>() : await projectShards(env, ids);
  const shardOf = (projectId: string) => known.get(String(Number(projectId))) ?? 0;
  return {
    shardOf,
    shardsOfMessage(body) {
      const s = new Set<number>();
      for (const it of body.items) s.add(shardOf(it.projectId));
      for (const o of body.outcomes ?? []) s.add(shardOf(String(o.projectId)));
      return [...s].sort((a, b) => a - b);
    },
  };
}

/**
 * The ledger ids that mean "this message is applied": its own, and for a dead letter's per-project
 * share (`<parent>:<projectId>`, dead-letters.ts) its parent's, which the ledger holds when the
 * parent's D1 batch committed before the message was dead-lettered anyway.
 */
export function ledgerKeys(id: string): string[] {
  const i = id.lastIndexOf(":");
  return i > 0 && /^\d+$/.test(id.slice(i + 1)) ? [id, id.slice(0, i)] : [id];
}

async function appliedOn(db: D1Database, ids: string[]): Promise<Set<string>> {
  const known = await ledgerHolds(db, [...new Set(ids.flatMap(ledgerKeys))]);
  return new Set(ids.filter((id) => ledgerKeys(id).some((k) => known.has(k))));
}

/** `message id → shards whose ledger already holds it`, one look-up per shard touched. */
export async function appliedBefore(
  env: ShardEnv,
  shards: ShardMap,
  bodies: IngestBatch[],
): Promise<(messageId: string, shard: number) => boolean> {
  const dbs = shardDbs(env);
  const perShard = new Map<number, string[]>();
  for (const b of bodies)
    for (const s of shards.shardsOfMessage(b)) (perShard.get(s) ?? perShard.set(s, []).get(s)!).push(b.id);
  const applied = new Map<number, Set<string>>();
  // A replayed share the dead-letter consumer found counted: applied wherever it goes now.
  const counted = new Set(bodies.filter((b) => b.counted === true).map((b) => b.id));
  await Promise.all(
    [...perShard].map(async ([s, ids]) => {
      const db = dbs[s];
      if (!db) throw new Error(`metadata shard ${s} is not bound (DB_SHARD_${s})`);
      applied.set(s, await appliedOn(db, ids));
    }),
  );
  return (id, s) => counted.has(id) || (applied.get(s)?.has(id) ?? false);
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
