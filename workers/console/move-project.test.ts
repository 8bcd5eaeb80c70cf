// Moving a project to another metadata shard (POST /api/v1/projects/{id}/shard, the admin CLI's
// projects:move), inside workerd against real local D1: counts survive the move, nothing of the
// project stays on the old shard, a redelivery of a message applied before the move is not counted
// again, rows a late batch wrote to the new shard are added to rather than overwritten, and bad
// requests get a 4xx that says why.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { foldGroupDeltas } from "../../shared/db/group-fold";
import { projectPlacements, projectShards, shardDbs } from "../../shared/db/shards";
import type { IngestBatch } from "../../shared/queue-message";
import { ADMIN, api, call, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { moveGuardDelete, runRetention } from "../processor/retention";
import { deliver, raygunItem, shardFailing } from "../processor/test-helpers";
import { MOVED_TABLES, moveProject } from "./move-project";

const messageId = () => `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;
const body = (items: IngestBatch["items"], id = messageId()) =>
  JSON.stringify({ v: 1, id, items } satisfies IngestBatch);

async function groups(p: TestProject) {
  return (await api<{ groups: { id: string; count: number }[] }>(`/api/v1/projects/${p.id}/groups`)).body
    .groups;
}

async function rowsOn(db: D1Database, p: TestProject) {
  let n = 0;
  for (const t of ["error_groups", "group_hours", "outcomes", "events"]) {
    const r = await db
      .prepare(`SELECT count(*) AS n FROM ${t} WHERE project_id = ?`)
      .bind(Number(p.id))
      .first<{ n: number }>();
    n += r?.n ?? 0;
  }
  return n;
}

/** The project's rows of `table` on `db`. */
const rowsIn = async (db: D1Database, p: TestProject, table: string) =>
  (await db
    .prepare(`SELECT count(*) AS n FROM ${table} WHERE project_id = ?`)
    .bind(Number(p.id))
    .first<{ n: number }>())!.n;

/** Checks that nothing of the project is left on `db`: no moved table's rows, no outbox chunk. */
async function expectNothingLeft(db: D1Database, p: TestProject) {
  for (const table of [...MOVED_TABLES, "move_outbox"])
    expect({ table, rows: await rowsIn(db, p, table) }).toEqual({ table, rows: 0 });
}

/** The projects some shard's move outbox holds a chunk of (as retention reads them). */
async function projectsInOutboxes(dbs: D1Database[]): Promise<Set<number>> {
  const pending = new Set<number>();
  for (const db of dbs)
    for (const r of (
      await db.prepare("SELECT DISTINCT project_id AS p FROM move_outbox").all<{ p: number }>()
    ).results)
      pending.add(r.p);
  return pending;
}

const pruneMoveGuards = (db: D1Database, pending: Set<number>, now: number) =>
  moveGuardDelete(db, pending, now).run();

const guardsOf = async (db: D1Database, p: TestProject) =>
  (await db
    .prepare("SELECT count(*) AS n FROM message_ledger WHERE id >= ? AND id < ?")
    .bind(`move:${p.id}:`, `move:${p.id};`)
    .first<{ n: number }>())!.n;

/**
 * Checks that a finished move left no outbox chunk, and that its guards, kept for a run that
 * stalled past its lease, are gone once retention runs a day later, on every shard.
 */
async function expectNoGuards(p: TestProject) {
  const dbs = shardDbs(env);
  const moving = await projectsInOutboxes(dbs);
  expect(moving.has(Number(p.id))).toBe(false);
  for (const db of dbs) {
    await pruneMoveGuards(db, moving, Date.now() + 2 * 86_400_000);
    expect(await guardsOf(db, p)).toBe(0);
  }
}

/** A new project, the shard it lives on and the next one (where the test moves it), and their databases. */
async function projectToMove(name: string) {
  const p = await createTestProject(name);
  const from = (await projectShards(env, [p.id])).get(p.id)!;
  const to = (from + 1) % shardDbs(env).length;
  return { p, from, to, oldDb: shardDbs(env)[from]!, newDb: shardDbs(env)[to]! };
}

/**
 * Runs a move of `p` from shard `from` to `to` that stops when the old shard fails, once, to delete
 * the outbox chunk of `table` (after the chunk was copied, with its guard, to the new shard).
 */
async function stopMoveAtOutboxDelete(p: TestProject, from: number, to: number, table: string) {
  const oldDb = shardDbs(env)[from]!;
  let failed = false;
  const flaky = new Proxy(oldDb, {
    get(db, key) {
      if (key !== "prepare") return Reflect.get(db, key);
      return (sql: string) => {
        const stmt = db.prepare(sql);
        if (failed || !/^DELETE FROM move_outbox\b/.test(sql)) return stmt;
        return {
          bind: (...args: unknown[]) => {
            const bound = stmt.bind(...args);
            return {
              run: async () => {
                const chunk = await db
                  .prepare("SELECT table_name FROM move_outbox WHERE id = ?")
                  .bind(args[0])
                  .first<{ table_name: string }>();
                if (chunk?.table_name !== table) return bound.run();
                failed = true;
                throw new Error("D1 went away mid-move");
              },
            };
          },
        };
      };
    },
  });
  const interrupted = { ...env, [`DB_SHARD_${from}`]: flaky } as typeof env;
  await expect(moveProject(interrupted, Number(p.id), to)).rejects.toThrow(/went away mid-move/);
  expect(failed).toBe(true);
}

/**
 * `db`, running `between` once, just before its first statement matching `at` runs (alone or in a
 * batch). With `thenFail`, every batch after that one fails, as a D1 that went away.
 */
function withGap(
  db: D1Database,
  at: RegExp,
  between: () => Promise<void>,
  { thenFail = false } = {},
): { db: D1Database; ran: () => boolean } {
  let ran = false;
  const marked = new WeakSet<object>();
  const once = async () => {
    if (ran) return false;
    ran = true;
    await between();
    return true;
  };
  const gap = new Proxy(db, {
    get(target, key) {
      if (key === "batch")
        return async (stmts: D1PreparedStatement[]) => {
          const first = stmts.some((st) => marked.has(st)) && (await once());
          if (thenFail && ran && !first) throw new Error("D1 went away mid-move");
          return target.batch(stmts);
        };
      if (key !== "prepare") return Reflect.get(target, key);
      return (sql: string) => {
        const stmt = target.prepare(sql);
        if (!at.test(sql)) return stmt;
        const bind = stmt.bind.bind(stmt);
        stmt.bind = (...args: unknown[]) => {
          const bound = bind(...args);
          marked.add(bound);
          const run = bound.run.bind(bound);
          bound.run = async () => {
            await once();
            return run();
          };
          return bound;
        };
        return stmt;
      };
    },
  });
  return { db: gap, ran: () => ran };
}

/**
 * Moves `p` from shard `from` to `to`, running `between` once, just before the old shard runs its
 * first statement matching `at` (alone or in a batch): where a batch that read the old pointer can
 * still try to commit there.
 */
async function moveWithGap(
  p: TestProject,
  from: number,
  to: number,
  at: RegExp,
  between: () => Promise<void>,
) {
  const gap = withGap(shardDbs(env)[from]!, at, between);
  await moveProject({ ...env, [`DB_SHARD_${from}`]: gap.db } as typeof env, Number(p.id), to);
  expect(gap.ran()).toBe(true);
}

const FENCE_WRITE = /^INSERT INTO departed_projects\b/;

/** The gap between the flip and the old shard's fence. */
const moveWithGapAtFence = (p: TestProject, from: number, to: number, between: () => Promise<void>) =>
  moveWithGap(p, from, to, FENCE_WRITE, between);

/** Runs `fn` as a batch that read project `p`'s pointer when it was still `shard`. */
async function withOldPointer<T>(p: TestProject, shard: number, fn: () => Promise<T>): Promise<T> {
  const now = (await projectShards(env, [p.id])).get(p.id)!;
  await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?").bind(shard, Number(p.id)).run();
  try {
    return await fn();
  } finally {
    await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?").bind(now, Number(p.id)).run();
  }
}

const move = (p: TestProject, shard: unknown) =>
  api<{ from: number; to: number; rowsMoved: number; error?: string }>(`/api/v1/projects/${p.id}/shard`, {
    method: "POST",
    body: JSON.stringify({ shard }),
  });

describe("moving a project to another metadata shard", () => {
  it("a move larger than one request's D1 calls stops at a chunk boundary and the next request goes on", async () => {
    const { p, from, to, oldDb, newDb } = await projectToMove("move-budget");
    await deliver([body([raygunItem(p), raygunItem(p)])]);
    // 2,000 outcome rows: ten chunks of 200, about four calls each, more than one request's share.
    const minutes = Array.from({ length: 2000 }, (_, i) => 60_000 * (1_000_000 + i));
    await oldDb
      .prepare(
        `INSERT INTO outcomes (project_id, minute, category, outcome, quantity)
         SELECT ?, value, 'error', 'filtered', 2 FROM json_each(?)`,
      )
      .bind(Number(p.id), JSON.stringify(minutes))
      .run();
    const quantity = async (db: D1Database) =>
      (await db
        .prepare(
          "SELECT coalesce(sum(quantity), 0) AS n FROM outcomes WHERE project_id = ? AND outcome = 'filtered'",
        )
        .bind(Number(p.id))
        .first<{ n: number }>())!.n;

    const d1Calls = 80;
    const reports = [];
    for (let i = 0; i < 40; i++) {
      const r = await moveProject(env, Number(p.id), to, { d1Calls });
      expect(r.d1Calls).toBeLessThanOrEqual(d1Calls);
      reports.push(r);
      if (r.done) break;
    }
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)!.done).toBe(true);
    expect(reports.slice(0, -1).every((r) => !r.done)).toBe(true);
    expect(reports[0]!.from).toBe(from);
    // Every row arrived once: nothing left behind, no quantity counted twice.
    expect(reports.reduce((n, r) => n + r.rowsMoved, 0)).toBeGreaterThanOrEqual(2000);
    expect(await quantity(newDb)).toBe(4000);
    await expectNothingLeft(oldDb, p);
    await expectNoGuards(p);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("keeps every count, leaves nothing on the old shard, and a redelivery after the move counts nothing", async () => {
    const { p, from, to } = await projectToMove("move");
    const applied = body([raygunItem(p), raygunItem(p), raygunItem(p)]);
    expect((await deliver([applied])).result.explicitAcks).toHaveLength(1);
    const before = await groups(p);
    expect(before.map((g) => g.count)).toEqual([3]);
    const oldDb = shardDbs(env)[from]!;
    const newDb = shardDbs(env)[to]!;
    // A batch that read the old pointer just before the flip lands on the new shard: the move adds.
    const late = before[0]!;
    const lateRows = await oldDb
      .prepare("SELECT * FROM group_hours WHERE project_id = ? AND group_id = ?")
      .bind(Number(p.id), late.id)
      .all();
    for (const r of lateRows.results)
      await newDb
        .prepare(
          "INSERT INTO group_hours (project_id, group_id, hour, release, environment, count, last_seen) VALUES (?, ?, ?, ?, ?, 5, ?) ON CONFLICT DO NOTHING",
        )
        .bind(r.project_id, r.group_id, r.hour, r.release, r.environment, r.last_seen)
        .run();

    const res = await move(p, to);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from, to });
    expect(res.body.rowsMoved).toBeGreaterThan(0);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    expect(await metaDbOf(p.id)).toBe(newDb);
    expect(await rowsOn(oldDb, p)).toBe(0);
    expect(await rowsOn(newDb, p)).toBeGreaterThan(0);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    const hours = await newDb
      .prepare("SELECT sum(count) AS n FROM group_hours WHERE project_id = ? AND group_id = ?")
      .bind(Number(p.id), late.id)
      .first<{ n: number }>();
    expect(hours?.n).toBe(3 + 5);

    // The queue redelivers the message applied before the move: the old shard's ledger, which the
    // processor asks for the queue's retention, recognises it.
    expect((await deliver([applied], { attempts: 2 })).result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    // New events are counted on the new shard.
    await deliver([body([raygunItem(p)])]);
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
    expect(await rowsOn(oldDb, p)).toBe(0);

    // Moving back is the same operation the other way; moving to where it is changes nothing.
    expect((await move(p, from)).status).toBe(200);
    expect((await move(p, from)).body).toMatchObject({ from, to: from, rowsMoved: 0 });
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
    expect(await rowsOn(newDb, p)).toBe(0);
  });

  it("a batch that wrote ledger rows on both shards: after the move each project's message is still known applied", async () => {
    const a = await createTestProject("move-ledger-a");
    const from = (await projectShards(env, [a.id])).get(a.id)!;
    const to = (from + 1) % shardDbs(env).length;
    let b = await createTestProject("move-ledger-b");
    for (let i = 0; i < 12 && (await projectShards(env, [b.id])).get(b.id) !== to; i++)
      b = await createTestProject(`move-ledger-b${i}`);
    expect((await projectShards(env, [b.id])).get(b.id)).toBe(to);
    // One batch, two messages of the same send-time slice, one per shard: each shard's ledger gets
    // a row of the same id (slice and batch) listing its own message.
    const time = Date.now().toString(16).padStart(12, "0");
    const forA = body([raygunItem(a), raygunItem(a)], `${time}${crypto.randomUUID()}`);
    const forB = body([raygunItem(b)], `${time}${crypto.randomUUID()}`);
    expect((await deliver([forA, forB])).result.explicitAcks).toHaveLength(2);
    expect((await groups(a)).map((g) => g.count)).toEqual([2]);

    expect((await move(a, to)).status).toBe(200);
    // Redelivered after the move: a's message is known on the shard a left, b's on its own.
    expect((await deliver([forA, forB], { attempts: 2 })).result.explicitAcks).toHaveLength(2);
    expect((await groups(a)).map((g) => g.count)).toEqual([2]);
    expect((await groups(b)).map((g) => g.count)).toEqual([1]);
  });

  it("stopped half way (a chunk copied, not yet deleted) and run again, counts nothing twice, pending deltas included", async () => {
    const { p, from, to, oldDb, newDb } = await projectToMove("move-resume");
    // Folding deferred, as deployed (the tests' default folds after every batch), and nothing has
    // read the project yet: its counts still wait in the old shard's group deltas.
    await deliver([body([raygunItem(p), raygunItem(p), raygunItem(p)])], {
      environment: { ...env, GROUP_FOLD_MS: "600000" },
    });
    expect(
      (await oldDb.prepare("SELECT count(*) AS n FROM group_deltas").first<{ n: number }>())!.n,
    ).toBeGreaterThan(0);
    // The old shard's delete of its first outbox chunk (the project's groups) fails once: the move
    // stops after that chunk was copied (with its guard) to the new shard and before it left the
    // old shard's outbox.
    await stopMoveAtOutboxDelete(p, from, to, "error_groups");
    // The pointer already says the new shard; the copied chunk is on both sides for now (in the old
    // shard's outbox), and the tables after it have not moved yet.
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    expect(await rowsIn(oldDb, p, "move_outbox")).toBe(1);
    expect(await rowsIn(oldDb, p, "group_hours")).toBeGreaterThan(0);

    // Run again: it resumes; the chunk's guard keeps its second copy from counting.
    expect((await move(p, to)).status).toBe(200);
    await expectNothingLeft(oldDb, p);
    const hours = await newDb
      .prepare("SELECT sum(count) AS n FROM group_hours WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(hours?.n).toBe(3);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    await expectNoGuards(p);
  });

  it("stopped after a chunk was copied, and run again, counts each event once; the stopped run's fence turns a late batch away meanwhile", async () => {
    const { p, from, to, oldDb, newDb } = await projectToMove("move-late");
    await deliver([body([raygunItem(p), raygunItem(p), raygunItem(p)])]);
    // The move stops once a group_hours chunk is on the new shard, before the old shard lets go of it.
    await stopMoveAtOutboxDelete(p, from, to, "group_hours");
    const hoursOn = async (db: D1Database) =>
      (await db
        .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ n: number }>())!.n;
    expect(await hoursOn(newDb)).toBe(3);

    // A batch that read the old pointer before the flip tries to commit on the old shard now: one
    // more event of the same group and hour. The fence the stopped run left turns it away.
    const late = body([raygunItem(p)]);
    const turnedAway = await withOldPointer(p, from, () => deliver([late]));
    expect(turnedAway.result.retryMessages).toHaveLength(1);
    expect(await hoursOn(oldDb)).toBe(0);

    expect((await move(p, to)).status).toBe(200);
    // The queue's retry reads the new pointer.
    expect((await deliver([late], { attempts: 2 })).result.explicitAcks).toHaveLength(1);
    expect(await hoursOn(newDb)).toBe(4);
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
    await expectNothingLeft(oldDb, p);
    await expectNoGuards(p);
  });

  // error_groups: the first chunk a move makes. group_facets: a table the fence also guards
  // (migration 0014), so the shard the chunk was bound for turns it away once the rerun fences it.
  for (const [table, back] of [
    ["error_groups", false],
    ["group_facets", false],
    ["group_facets", true],
  ] as const)
    it(`stopped before a ${table} chunk reached its target and run again towards ${back ? "the shard it left" : "another shard"}, carries the chunk on`, async () => {
      const p = await createTestProject(`move-retarget-${table}-${back}`);
      const dbs = shardDbs(env);
      const from = (await projectShards(env, [p.id])).get(p.id)!;
      const first = (from + 1) % dbs.length;
      const second = back ? from : (from + 2) % dbs.length;
      await deliver([body([raygunItem(p), raygunItem(p)])]);
      const count = (db: D1Database, t: string) => rowsIn(db, p, t);
      const facets = await count(dbs[from]!, "group_facets");
      expect(facets).toBeGreaterThan(0);
      // The first target refuses the table's chunk: it stays in the old shard's outbox.
      const sqlOf = new WeakMap<object, string>();
      const refusing = new Proxy(dbs[first]!, {
        get(db, key) {
          if (key === "prepare")
            return (sql: string) => {
              const stmt = db.prepare(sql);
              const bind = stmt.bind.bind(stmt);
              stmt.bind = (...args: unknown[]) => {
                const bound = bind(...args);
                sqlOf.set(bound, sql);
                return bound;
              };
              return stmt;
            };
          if (key === "batch")
            return async (stmts: D1PreparedStatement[]) => {
              if (stmts.some((st) => sqlOf.get(st)?.includes(`INSERT INTO ${table} `)))
                throw new Error("target shard unavailable");
              return db.batch(stmts);
            };
          return Reflect.get(db, key);
        },
      });
      const interrupted = { ...env, [`DB_SHARD_${first}`]: refusing } as typeof env;
      await expect(moveProject(interrupted, Number(p.id), first)).rejects.toThrow(/target shard unavailable/);
      expect(await count(dbs[from]!, "move_outbox")).toBe(1);
      expect(await count(dbs[from]!, table)).toBe(0);

      // Run towards another shard (or back): the chunk is delivered to where this run moves the
      // project, and everything else follows.
      const res = await move(p, second);
      expect(res.status).toBe(200);
      expect((await groups(p)).map((g) => g.count)).toEqual([2]);
      for (const s of [from, first].filter((s) => s !== second)) await expectNothingLeft(dbs[s]!, p);
      expect(await count(dbs[second]!, "move_outbox")).toBe(0);
      expect(await count(dbs[second]!, "error_groups")).toBe(1);
      expect(await count(dbs[second]!, "group_facets")).toBe(facets);
      await expectNoGuards(p);
    });

  it("a run that stalled past its lease and was taken over stops itself before its next write", async () => {
    const { p, from, to } = await projectToMove("move-stalled");
    await deliver([body([raygunItem(p)])]);
    const other = (to + 1) % shardDbs(env).length;
    let takeover: Awaited<ReturnType<typeof move>> | null = null;
    // Run 1 stalls after its flip, before its fences, long enough for its lease to run out; run 2
    // takes the project over and moves it to a third shard.
    await expect(
      moveWithGapAtFence(p, from, to, async () => {
        await env.DB.prepare("UPDATE projects SET move_until = ? WHERE id = ?")
          .bind(Date.now() - 1, Number(p.id))
          .run();
        takeover = await move(p, other);
      }),
      // Stopped by its lease check, or by the fence the run that took over put on its target.
    ).rejects.toThrow(/another run took it over|a shard fenced this run's write/);
    expect(takeover!.status).toBe(200);
    // Run 1 fenced nothing after it lost the project: run 2's target takes the project's batches.
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(other);
    const fence = await shardDbs(env)
      [other]!.prepare("SELECT 1 AS x FROM departed_projects WHERE project_id = ?")
      .bind(Number(p.id))
      .first();
    expect(fence).toBeNull();
    const r = await deliver([body([raygunItem(p)])]);
    expect(r.result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("a run that stalled past its lease before delivering a chunk, taken over towards the same shard, adds nothing when it wakes", async () => {
    const { p, to } = await projectToMove("move-stalled-chunk");
    await deliver([body([raygunItem(p), raygunItem(p), raygunItem(p)])]);
    const target = shardDbs(env)[to]!;
    let woke = false;
    // Run 1 stalls at its first delivery to the target, a chunk already staged in the old shard's
    // outbox; its lease runs out, and run 2 (the usual "run it again") delivers that chunk and finishes.
    const stalling = new Proxy(target, {
      get(db, key) {
        if (key !== "batch") return Reflect.get(db, key);
        return async (stmts: D1PreparedStatement[]) => {
          if (!woke) {
            woke = true;
            await env.DB.prepare("UPDATE projects SET move_until = ? WHERE id = ?")
              .bind(Date.now() - 1, Number(p.id))
              .run();
            expect((await move(p, to)).status).toBe(200);
          }
          return db.batch(stmts);
        };
      },
    });
    await moveProject({ ...env, [`DB_SHARD_${to}`]: stalling } as typeof env, Number(p.id), to).catch(
      () => null,
    );
    expect(woke).toBe(true);
    // Run 2's guard is still on the target: run 1's late delivery of the same chunk added nothing.
    expect(await guardsOf(target, p)).toBeGreaterThan(0);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    const hours = await target
      .prepare("SELECT sum(count) AS n FROM group_hours WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(hours?.n).toBe(3);
  });

  it("a run that stalled past its lease just before fencing the shard the run that took over moved the project to takes its fence back", async () => {
    const { p, from, to } = await projectToMove("move-stalled-fence");
    const third = (to + 1) % shardDbs(env).length;
    await deliver([body([raygunItem(p)])]);
    // Run 1 (towards `to`) fences the other shards before its flip; it stalls at `third`'s fence,
    // and meanwhile run 2 takes the project over and moves it to `third`.
    const stalling = withGap(shardDbs(env)[third]!, FENCE_WRITE, async () => {
      await env.DB.prepare("UPDATE projects SET move_until = ? WHERE id = ?")
        .bind(Date.now() - 1, Number(p.id))
        .run();
      expect((await move(p, third)).status).toBe(200);
    });
    await expect(
      moveProject({ ...env, [`DB_SHARD_${third}`]: stalling.db } as typeof env, Number(p.id), to),
    ).rejects.toThrow(/another run took it over/);
    expect(stalling.ran()).toBe(true);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(third);
    // No fence on the shard the project lives on: its batches commit there.
    const fence = await shardDbs(env)
      [third]!.prepare("SELECT to_shard FROM departed_projects WHERE project_id = ?")
      .bind(Number(p.id))
      .first();
    expect(fence).toBeNull();
    const r = await deliver([body([raygunItem(p)])]);
    expect(r.result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
    expect(from).not.toBe(third);
  });

  it("keeps a move's guards while an outbox holds a chunk of the project, and prunes them a day after it is empty", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-guard-prune");
    await deliver([body([raygunItem(p), raygunItem(p), raygunItem(p)])]);
    await stopMoveAtOutboxDelete(p, from, to, "group_hours");
    const dbs = shardDbs(env);
    const later = Date.now() + 2 * 86_400_000;
    // The chunk arrived (its guard is on the target) but is still in the old shard's outbox.
    expect(await rowsIn(oldDb, p, "move_outbox")).toBeGreaterThan(0);
    const guards = await guardsOf(dbs[to]!, p);
    expect(guards).toBeGreaterThan(0);
    for (const db of dbs) await pruneMoveGuards(db, await projectsInOutboxes(dbs), later);
    expect(await guardsOf(dbs[to]!, p)).toBe(guards);
    // Run again: the chunk leaves the outbox without being added twice; then the guards can go.
    expect((await move(p, to)).status).toBe(200);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    for (const db of dbs) await pruneMoveGuards(db, await projectsInOutboxes(dbs), Date.now());
    expect(await guardsOf(dbs[to]!, p)).toBeGreaterThan(0);
    await expectNoGuards(p);
  });

  it("turns away a batch that read the old pointer and commits on the old shard after the fence; its retry counts on the new one", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-late-batch");
    await deliver([body([raygunItem(p), raygunItem(p), raygunItem(p)])]);
    // The late batch read the old pointer before the flip and commits once the move has fenced the
    // old shard, as it starts to sweep it: without the fence its counts would land behind the sweep.
    const lateBody = body([raygunItem(p)]);
    let late: Awaited<ReturnType<typeof deliver>> | null = null;
    await moveWithGap(p, from, to, /^INSERT INTO move_outbox\b/, async () => {
      late = await withOldPointer(p, from, () => deliver([lateBody]));
    });
    // Turned away: nothing of it committed on the old shard, and the queue is asked to retry it.
    expect(late!.result.retryMessages).toHaveLength(1);
    expect(late!.result.explicitAcks).toHaveLength(0);
    await expectNothingLeft(oldDb, p);
    expect(
      await oldDb
        .prepare("SELECT count(*) AS n FROM group_deltas WHERE instr(groups, ?) > 0")
        .bind(`"p":${p.id},`)
        .first<{ n: number }>(),
    ).toEqual({ n: 0 });
    // The retry reads the new pointer: counted once, on the new shard, with no second sweep.
    expect((await deliver([lateBody], { attempts: 2 })).result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
    const hours = await shardDbs(env)
      [to]!.prepare("SELECT sum(count) AS n FROM group_hours WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(hours?.n).toBe(4);
    // Redelivered once more, it adds nothing.
    expect((await deliver([lateBody], { attempts: 3 })).result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
  });

  it("a batch that committed on the old shard between the flip and the fence is carried over by the one sweep", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-before-fence");
    await deliver([body([raygunItem(p), raygunItem(p)])]);
    await moveWithGapAtFence(p, from, to, async () => {
      const r = await withOldPointer(p, from, () =>
        deliver([body([raygunItem(p)])], { environment: { ...env, GROUP_FOLD_MS: "600000" } }),
      );
      expect(r.result.explicitAcks).toHaveLength(1);
    });
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    await expectNothingLeft(oldDb, p);
  });

  it("folds a delta of the project that another fold's win left pending, before its rows move", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-fold-race");
    await deliver([body([raygunItem(p), raygunItem(p)])], {
      environment: { ...env, GROUP_FOLD_MS: "600000" },
    });
    const ofProject = () =>
      oldDb
        .prepare("SELECT batch_id, created_at, groups, hours FROM group_deltas WHERE instr(groups, ?) > 0")
        .bind(`"p":${p.id},`)
        .all<{ batch_id: string; created_at: number; groups: string; hours: string }>();
    const [delta] = (await ofProject()).results;
    expect(delta).toBeDefined();
    await moveWithGap(p, from, to, /^INSERT INTO group_fold\b/, async () => {
      // A fold after some batch wins the claim over the deltas the move's fold read, and a delta of
      // the project that committed (before the fence) after that fold's read is still pending:
      // its two events again, as a second batch of the same group.
      await foldGroupDeltas(oldDb);
      await oldDb
        .prepare("INSERT INTO group_deltas (batch_id, created_at, groups, hours) VALUES (?, ?, ?, ?)")
        .bind(delta!.batch_id, delta!.created_at, delta!.groups, delta!.hours)
        .run();
    });
    // The move folded it before moving the rows: no delta and no group row left to fold there.
    expect((await ofProject()).results).toEqual([]);
    await foldGroupDeltas(oldDb);
    await expectNothingLeft(oldDb, p);
    expect((await groups(p)).map((g) => g.count)).toEqual([4]);
  });

  it("turns away rows a write adds without a ledger entry: a redelivery that read the old pointer after the move", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-fence-rows");
    const m = body([raygunItem(p)]);
    await deliver([m]);
    expect((await move(p, to)).status).toBe(200);
    // The old shard's ledger still lists the message (a move never deletes it), so a
    // redelivery that read the old pointer counts nothing there and writes no ledger entry, only
    // rows of what it carries (facets, and in the embedded configuration a pointer row).
    const again = await withOldPointer(p, from, () => deliver([m], { attempts: 2 }));
    expect(again.result.retryMessages).toHaveLength(1);
    await expectNothingLeft(oldDb, p);
    expect(await rowsIn(oldDb, p, "group_facets")).toBe(0);
    expect((await deliver([m], { attempts: 3 })).result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([1]);
  });

  it("a console merge that read the old pointer and writes after the fence answers 503 with Retry-After, writing nothing", async () => {
    const { p, from, to, oldDb } = await projectToMove("move-fence-merge");
    const other = JSON.parse(raygunItem(p).payload!) as { details: { error: { className: string } } };
    other.details.error.className = "RangeError";
    await deliver([body([raygunItem(p), raygunItem(p, { payload: JSON.stringify(other) })])]);
    const gs = await groups(p);
    expect(gs).toHaveLength(2);
    // The merge reads the old pointer and the groups still on the old shard, after the fence and
    // before the sweep moves them.
    let merged: Response | null = null;
    await moveWithGap(p, from, to, /^INSERT INTO move_outbox\b/, async () => {
      merged = await withOldPointer(p, from, () =>
        call(`/api/v1/projects/${p.id}/groups/merge`, {
          method: "POST",
          headers: { ...ADMIN, "content-type": "application/json" },
          body: JSON.stringify({ into: gs[0]!.id, groups: [gs[1]!.id] }),
        }),
      );
    });
    expect(merged!.status).toBe(503);
    expect(merged!.headers.get("retry-after")).toBe("1");
    expect(await rowsIn(oldDb, p, "group_redirects")).toBe(0);
    // Made again, it reads the new pointer.
    expect(
      (
        await api(`/api/v1/projects/${p.id}/groups/merge`, {
          method: "POST",
          body: JSON.stringify({ into: gs[0]!.id, groups: [gs[1]!.id] }),
        })
      ).status,
    ).toBe(200);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("refuses a second move of the project while one runs (409), and takes over a run that stalled past its lease", async () => {
    const { p, from, to } = await projectToMove("move-lease");
    await deliver([body([raygunItem(p)])]);
    const elsewhere = (to + 1) % shardDbs(env).length;
    let second: Awaited<ReturnType<typeof move>> | null = null;
    await moveWithGapAtFence(p, from, to, async () => {
      second = await move(p, elsewhere === from ? (elsewhere + 1) % shardDbs(env).length : elsewhere);
    });
    expect(second!.status).toBe(409);
    expect(second!.body.error).toMatch(/another move of this project is running/);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    // Released at the end: the next move runs.
    expect((await move(p, from)).status).toBe(200);
    // A run that stalled past its lease does not hold the project for ever.
    await env.DB.prepare("UPDATE projects SET move_run = 'stalled', move_until = ? WHERE id = ?")
      .bind(Date.now() - 1, Number(p.id))
      .run();
    expect((await move(p, to)).status).toBe(200);
    expect((await groups(p)).map((g) => g.count)).toEqual([1]);
    const held = await env.DB.prepare("SELECT move_run FROM projects WHERE id = ?")
      .bind(Number(p.id))
      .first<{ move_run: string | null }>();
    expect(held?.move_run).toBeNull();
  });

  it("a stopped move run again towards a third shard still recognises what was applied on the shard the first run left", async () => {
    const { p, from, to } = await projectToMove("move-retarget-ledger");
    const third = (to + 1) % shardDbs(env).length;
    expect(third).not.toBe(from);
    await deliver([body([raygunItem(p)])]);
    // Run 1: a batch that read the old pointer applies message L on the old shard between the flip
    // and the fence; then the run stops at its first outbox write there, before any row moved.
    const late = body([raygunItem(p)]);
    const oldDb = shardDbs(env)[from]!;
    const stopping = withGap(
      oldDb,
      FENCE_WRITE,
      () => withOldPointer(p, from, () => deliver([late])).then(() => {}),
      {
        thenFail: true,
      },
    );
    await expect(
      moveProject({ ...env, [`DB_SHARD_${from}`]: stopping.db } as typeof env, Number(p.id), to),
    ).rejects.toThrow(/went away mid-move/);
    expect(stopping.ran()).toBe(true);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    // Run 2, towards a third shard. Then the queue redelivers L (its first delivery failed a later
    // step): every shard the project left within the queue's retention is asked, the first among them.
    expect((await move(p, third)).status).toBe(200);
    const left = await env.DB.prepare("SELECT left_shards FROM projects WHERE id = ?")
      .bind(Number(p.id))
      .first<{ left_shards: string }>();
    expect(Object.keys(JSON.parse(left!.left_shards)).map(Number).sort()).toEqual([from, to].sort());
    await expectNothingLeft(oldDb, p);
    expect((await deliver([late], { attempts: 2 })).result.explicitAcks).toHaveLength(1);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("moved twice within the queue's retention, a redelivery of a message applied before the first move counts nothing", async () => {
    const { p, from, to } = await projectToMove("move-twice");
    const third = (to + 1) % shardDbs(env).length;
    const first = body([raygunItem(p), raygunItem(p)]);
    await deliver([first]);
    expect((await move(p, to)).status).toBe(200);
    const second = body([raygunItem(p)]);
    await deliver([second]);
    expect((await move(p, third)).status).toBe(200);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
    expect((await projectPlacements(env, [p.id])).get(p.id)?.left).toEqual(
      new Map([
        [from, expect.any(Number)],
        [to, expect.any(Number)],
      ]),
    );
    // Applied on `from` and on `to`, in neither of which the project lives now.
    expect((await deliver([first, second], { attempts: 2 })).result.explicitAcks).toHaveLength(2);
    expect((await groups(p)).map((g) => g.count)).toEqual([3]);
  });

  it("costs the same D1 calls whatever the project's share of the ledger: a big share is asked where it is, never copied", async () => {
    const { p, from, to } = await projectToMove("move-big-ledger");
    const q = await createTestProject("move-small-ledger");
    if ((await projectShards(env, [q.id])).get(q.id) !== from) expect((await move(q, from)).status).toBe(200);
    await deliver([body([raygunItem(p)])]);
    await deliver([body([raygunItem(q)])]);
    // 4,000 ledger rows of p's messages on the old shard (a busy project's few days of batches;
    // at 200 rows a round trip a copy would cost 40 D1 calls here, 3,600 for 720,000 rows).
    const ids = Array.from({ length: 4000 }, messageId);
    const oldDb = shardDbs(env)[from]!;
    await oldDb
      .prepare(
        `INSERT INTO message_ledger (id, batch_id, applied_at, ids)
         SELECT substr(value, 1, 10) || ':~big' || key, 'big' || key, ?, json_array(substr(value, 11) || '@' || ?)
         FROM json_each(?)`,
      )
      .bind(Date.now(), String(Number(p.id)), JSON.stringify(ids))
      .run();
    const big = await moveProject(env, Number(p.id), to);
    const small = await moveProject(env, Number(q.id), to);
    expect(big.done && small.done).toBe(true);
    expect(big.d1Calls).toBe(small.d1Calls);
    // Each of those messages is still known applied: a redelivery counts nothing.
    const again = ids.slice(0, 50).map((id) => body([raygunItem(p)], id));
    expect((await deliver(again, { attempts: 2 })).result.explicitAcks).toHaveLength(50);
    expect((await groups(p)).map((g) => g.count)).toEqual([1]);
  });

  it("a move back that stops before its flip leaves the shard it was moving to fenced, as before", async () => {
    const { p, from, to } = await projectToMove("move-back-stopped");
    await deliver([body([raygunItem(p)])]);
    expect((await move(p, to)).status).toBe(200);
    const fenceOn = (s: number) =>
      shardDbs(env)
        [s]!.prepare("SELECT to_shard FROM departed_projects WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ to_shard: number }>();
    expect(await fenceOn(from)).toEqual({ to_shard: to });
    // Moving back, the flip fails: the pointer stays, and so does the fence on the shard the run
    // was moving to (a batch may still hold a pointer to it).
    const failing = new Proxy(env.DB, {
      get(db, key) {
        if (key !== "prepare") return Reflect.get(db, key);
        return (sql: string) => {
          if (/^UPDATE projects SET shard = \?, left_shards\b/.test(sql))
            throw new Error("D1 went away mid-move");
          return db.prepare(sql);
        };
      },
    });
    await expect(moveProject({ ...env, DB: failing } as typeof env, Number(p.id), from)).rejects.toThrow(
      /went away mid-move/,
    );
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(to);
    expect(await fenceOn(from)).toEqual({ to_shard: to });
    // Run again, it goes through.
    expect((await move(p, from)).status).toBe(200);
    expect(await fenceOn(from)).toBeNull();
    expect((await groups(p)).map((g) => g.count)).toEqual([1]);
  });

  it("a project moved back to a shard it left is no longer turned away there", async () => {
    const { p, from, to } = await projectToMove("move-back");
    await deliver([body([raygunItem(p)])]);
    expect((await move(p, to)).status).toBe(200);
    const fence = () =>
      shardDbs(env)
        [from]!.prepare("SELECT to_shard FROM departed_projects WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ to_shard: number }>();
    expect(await fence()).toEqual({ to_shard: to });
    expect((await move(p, from)).status).toBe(200);
    expect(await fence()).toBeNull();
    const r = await deliver([body([raygunItem(p)])]);
    expect(r.result.explicitAcks).toHaveLength(1);
    expect(r.result.retryMessages).toHaveLength(0);
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("a group a batch after the flip made on the new shard keeps the moved row's state, and both rows' users", async () => {
    const { p, from, to } = await projectToMove("move-state");
    await deliver([body([raygunItem(p), raygunItem(p)])]);
    const [g] = await groups(p);
    const ignore = await api(`/api/v1/projects/${p.id}/groups/${g!.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "ignored" }),
    });
    expect(ignore.status).toBe(200);
    // A batch that read the new pointer first: the group, with another user, is new on that shard.
    const other = raygunItem(p);
    const report = JSON.parse(other.payload!);
    report.details.user.identifier = "user-7";
    other.payload = JSON.stringify(report);
    other.size = other.payload.length;
    await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?").bind(to, Number(p.id)).run();
    await deliver([body([other])]);
    await env.DB.prepare("UPDATE projects SET shard = ? WHERE id = ?").bind(from, Number(p.id)).run();

    expect((await move(p, to)).status).toBe(200);
    const after = await api<{ groups: { id: string; count: number; status: string; users: number }[] }>(
      `/api/v1/projects/${p.id}/groups?status=ignored`,
    );
    expect(after.body.groups.map((x) => [x.id, x.count, x.status, x.users])).toEqual([
      [g!.id, 3, "ignored", 2],
    ]);
  });

  it("a move between two shards while a message spread over both waits to be retried loses neither project's share", async () => {
    // Two projects per shard pair: each message holds one project of each shard.
    const a = await createTestProject("move-share-a");
    const from = (await projectShards(env, [a.id])).get(a.id)!;
    const to = (from + 1) % shardDbs(env).length;
    // New projects go to the least used shard, which the other tests' moves have skewed: place
    // these by moving them, empty, where the test needs them.
    const placed = async (name: string, shard: number) => {
      const x = await createTestProject(name);
      expect((await move(x, shard)).status).toBe(200);
      return x;
    };
    const b = await placed("move-share-b", from);
    const c = await placed("move-share-c", to);
    const d = await placed("move-share-d", to);
    expect((await projectShards(env, [b.id])).get(b.id)).toBe(from);
    // m1: a (old shard) commits, c (new shard) fails. m2: b (old shard) fails, d (new shard) commits.
    const m1 = body([raygunItem(a), raygunItem(c)]);
    const m2 = body([raygunItem(b), raygunItem(d)]);
    await deliver([m1], { environment: shardFailing(to) });
    await deliver([m2], { environment: shardFailing(from) });
    expect((await groups(a)).map((g) => g.count)).toEqual([1]);
    expect(await groups(c)).toEqual([]);
    expect(await groups(b)).toEqual([]);
    expect((await groups(d)).map((g) => g.count)).toEqual([1]);

    // a and b move to the new shard before the queue retries the two messages.
    expect((await move(a, to)).status).toBe(200);
    expect((await move(b, to)).status).toBe(200);
    expect((await deliver([m1, m2], { attempts: 2 })).result.explicitAcks).toHaveLength(2);
    // Each project's event counted once: a's and d's not again, c's and b's at last.
    const counts = async (p: TestProject) => (await groups(p)).map((g) => g.count);
    expect([await counts(a), await counts(b), await counts(c), await counts(d)]).toEqual([
      [1],
      [1],
      [1],
      [1],
    ]);
  });

  it("a message a late batch applied on the old shard before the fence, then redelivered to the new one mid-move, counts once", async () => {
    const { p, from, to } = await projectToMove("move-late-redelivery");
    await deliver([body([raygunItem(p)])]);
    // A batch that read the old pointer commits its message on the old shard after the move copied
    // the ledger, then fails a later step: the queue redelivers the message, now to the new shard,
    // before the move's sweep has copied that ledger entry. The processor asks the old shard too.
    const late = body([raygunItem(p)]);
    await moveWithGapAtFence(p, from, to, async () => {
      await withOldPointer(p, from, () => deliver([late]));
      const pointer = await env.DB.prepare("SELECT shard, moved_from FROM projects WHERE id = ?")
        .bind(Number(p.id))
        .first<{ shard: number; moved_from: number }>();
      expect(pointer).toEqual({ shard: to, moved_from: from });
      expect((await deliver([late], { attempts: 2 })).result.explicitAcks).toHaveLength(1);
    });
    expect((await groups(p)).map((g) => g.count)).toEqual([2]);
  });

  it("a fence is kept for a day, longer than any batch can hold an old pointer, then pruned by retention; so are move guards no outbox needs", async () => {
    const now = Date.now();
    const db = shardDbs(env).at(-1)!;
    const source = shardDbs(env)[0]!;
    // Project ids no test creates: 2 × 10^9 and a few more.
    await db.batch(
      [
        [2_000_000_000, now - 2 * 86_400_000],
        [2_000_000_001, now - 3_600_000],
      ].map(([pid, at]) =>
        db
          .prepare("INSERT INTO departed_projects (project_id, to_shard, departed_at) VALUES (?, 0, ?)")
          .bind(pid, at),
      ),
    );
    // Guards: a day old of a finished move (2000000002), a day old of a move whose outbox on
    // another shard still holds a chunk (2000000003), an hour old (2000000004).
    const guard = (pid: number, at: number) =>
      db
        .prepare("INSERT INTO message_ledger (id, batch_id, applied_at, ids) VALUES (?, 'run', ?, ?)")
        .bind(`move:${pid}:${crypto.randomUUID()}`, at, JSON.stringify([`move@${pid}`]));
    await db.batch([
      guard(2_000_000_002, now - 2 * 86_400_000),
      guard(2_000_000_003, now - 2 * 86_400_000),
      guard(2_000_000_004, now - 3_600_000),
    ]);
    await source
      .prepare(
        "INSERT INTO move_outbox (id, project_id, to_shard, table_name, rows, created_at) VALUES (?, ?, ?, 'outcomes', '[]', ?)",
      )
      .bind(crypto.randomUUID(), 2_000_000_003, shardDbs(env).length - 1, now)
      .run();
    const report = await runRetention(env, now);
    expect(report.fencesPruned).toBeGreaterThanOrEqual(1);
    const left = await db
      .prepare("SELECT project_id FROM departed_projects WHERE project_id >= 2000000000")
      .all<{ project_id: number }>();
    expect(left.results.map((r) => r.project_id)).toEqual([2_000_000_001]);
    const guards = await db
      .prepare("SELECT id FROM message_ledger WHERE id >= 'move:2000000000' AND id < 'move:2000000009'")
      .all<{ id: string }>();
    expect(guards.results.map((r) => r.id.split(":")[1]).sort()).toEqual(["2000000003", "2000000004"]);
    await source.prepare("DELETE FROM move_outbox WHERE project_id = 2000000003").run();
  });

  it("answers bad requests with a 4xx that says why", async () => {
    const p = await createTestProject("move-bad");
    const far = await move(p, 99);
    expect(far.status).toBe(400);
    expect(far.body.error).toMatch(/shard: must be 0\.\.3 \(4 metadata shard/);
    expect((await move(p, "one")).status).toBe(400);
    expect((await move(p, -1)).status).toBe(400);
    const unknown = await api<{ error: string }>("/api/v1/projects/999999999/shard", {
      method: "POST",
      body: JSON.stringify({ shard: 0 }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("project not found");
    const groupsOfUnknown = await api<{ error: string }>("/api/v1/projects/999999999/groups");
    expect(groupsOfUnknown.status).toBe(404);
  });
});
