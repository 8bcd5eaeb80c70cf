// Group deltas and their fold against real local D1 in workerd: with folding deferred (as
// deployed) a batch leaves its counts in group_deltas, a console read folds them first, two folds
// racing over the same deltas apply them once, a group merged while its deltas wait still gets
// them, and a fold that fails loses nothing.
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { processBatch } from "../../workers/processor/process-batch";
import { batchBody, raygunItem } from "../../workers/processor/test-helpers";
import {
  FOLD_DEFAULT_MS,
  FOLD_MAX_PENDING,
  foldAfterMs,
  foldDue,
  foldGroupDeltas,
  pendingProjects,
  sumDeltas,
} from "./group-fold";

const deferred = { ...env, GROUP_FOLD_MS: "600000" };

/** One batch of `n` events per named group, delivered with folding deferred. */
async function send(p: TestProject, groups: Record<string, number>, environment: object = deferred) {
  const items = Object.entries(groups).flatMap(([name, n]) =>
    Array.from({ length: n }, () => {
      const it = raygunItem(p, {}, name);
      const report = JSON.parse(it.payload!);
      report.details.error.className = `Fold${name}`;
      it.payload = JSON.stringify(report);
      it.size = it.payload.length;
      return it;
    }),
  );
  const id = `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;
  const batch = createMessageBatch("sluice-errors-0", [
    { id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: batchBody(items, id) },
  ]);
  return processBatch(batch, environment as never);
}

async function rows(p: TestProject) {
  const db = await metaDbOf(p.id);
  const groups = await db
    .prepare("SELECT id, message, count FROM error_groups WHERE project_id = ? ORDER BY message")
    .bind(Number(p.id))
    .all<{ id: string; message: string; count: number }>();
  const hours = await db
    .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
    .bind(Number(p.id))
    .first<{ n: number }>();
  const pending = await db.prepare("SELECT count(*) AS n FROM group_deltas").first<{ n: number }>();
  return { groups: groups.results, hours: hours?.n ?? 0, pending: pending?.n ?? 0 };
}

describe("group deltas", () => {
  it("wait in group_deltas when folding is deferred, and a console read folds them first", async () => {
    const p = await createTestProject("fold-deferred");
    await send(p, { alpha: 3, beta: 2 });
    await send(p, { alpha: 4 });
    const before = await rows(p);
    expect(before.groups.map((g) => g.count)).toEqual([0, 0]);
    expect(before.hours).toBe(0);
    expect(before.pending).toBeGreaterThanOrEqual(2);
    const list = await api<{ groups: { message: string; count: number }[] }>(
      `/api/v1/projects/${p.id}/groups`,
    );
    expect(list.body.groups.map((g) => [g.message, g.count]).sort()).toEqual([
      ["alpha", 7],
      ["beta", 2],
    ]);
    const after = await rows(p);
    expect(after.hours).toBe(9);
    expect(after.pending).toBe(0);
  });

  it("a delta whose group row is gone by the fold (retention deleted it as a fresh event came) writes the row again, whole", async () => {
    const p = await createTestProject("fold-missing-row");
    await send(p, { gamma: 2 });
    const db = await metaDbOf(p.id);
    const [stored] = (
      await db
        .prepare("SELECT * FROM error_groups WHERE project_id = ?")
        .bind(Number(p.id))
        .all<Record<string, unknown>>()
    ).results;
    await db.prepare("DELETE FROM error_groups WHERE project_id = ?").bind(Number(p.id)).run();
    await foldGroupDeltas(db);
    const [again] = (
      await db
        .prepare("SELECT * FROM error_groups WHERE project_id = ?")
        .bind(Number(p.id))
        .all<Record<string, unknown>>()
    ).results;
    expect(again).toMatchObject({ ...stored, count: 2, users: again?.users });
    expect(again?.fingerprint).toBeTruthy();
    expect((await rows(p)).hours).toBe(2);
  });

  it("pendingProjects names the projects whose deltas wait, and says so when more wait than it reads", async () => {
    const p = await createTestProject("fold-pending");
    const db = await metaDbOf(p.id);
    await foldGroupDeltas(db, 64);
    expect(await pendingProjects(db)).toEqual(new Set());
    await send(p, { delta: 2 });
    expect(await pendingProjects(db)).toEqual(new Set([Number(p.id)]));
    // 64 more (empty) deltas behind it: past the bounded read, every project may be waiting.
    await db
      .prepare(
        "INSERT INTO group_deltas (batch_id, created_at, groups, hours) SELECT 'empty-' || value, 0, '[]', '[]' FROM json_each(?)",
      )
      .bind(JSON.stringify(Array.from({ length: 64 }, (_, i) => i)))
      .run();
    expect(await pendingProjects(db)).toBe("unknown");
    await foldGroupDeltas(db, 64);
    expect(await pendingProjects(db)).toEqual(new Set());
    expect((await rows(p)).groups.map((g) => g.count)).toEqual([2]);
  });

  it("two folds racing over the same deltas apply them once", async () => {
    const p = await createTestProject("fold-race");
    for (let i = 0; i < 3; i++) await send(p, { gamma: 5 });
    const db = await metaDbOf(p.id);
    const results = await Promise.all([foldGroupDeltas(db), foldGroupDeltas(db), foldGroupDeltas(db)]);
    expect(results.reduce((a, r) => a + r.deltas, 0)).toBeGreaterThanOrEqual(3);
    const after = await rows(p);
    expect(after.groups.map((g) => g.count)).toEqual([15]);
    expect(after.hours).toBe(15);
  });

  it("the processor folds on its own once FOLD_MAX_PENDING deltas wait, however long ago they came", async () => {
    const p = await createTestProject("fold-backlog");
    const db = await metaDbOf(p.id);
    await foldGroupDeltas(db); // other tests' leftovers on this shard
    for (let i = 0; i < FOLD_MAX_PENDING - 1; i++) await send(p, { backlog: 2 });
    expect((await rows(p)).pending).toBe(FOLD_MAX_PENDING - 1);
    await send(p, { backlog: 2 });
    expect((await rows(p)).pending).toBe(0);
    expect((await rows(p)).groups.map((g) => g.count)).toEqual([2 * FOLD_MAX_PENDING]);
    await send(p, { backlog: 2 });
    await foldGroupDeltas(db);
    const after = await rows(p);
    expect(after.groups.map((g) => g.count)).toEqual([2 * FOLD_MAX_PENDING + 2]);
    expect(after.hours).toBe(2 * FOLD_MAX_PENDING + 2);
  });

  it("counts of a group merged while they wait land on the group it was merged into", async () => {
    const p = await createTestProject("fold-merge");
    await send(p, { source: 2, target: 3 }, env);
    await send(p, { source: 4 });
    const { groups } = await rows(p);
    const source = groups.find((g) => g.message === "source")!;
    const target = groups.find((g) => g.message === "target")!;
    // The merge writes the redirect directly, as the merge route does before it folds counts.
    const db = await metaDbOf(p.id);
    await db
      .prepare(
        "INSERT INTO group_redirects (project_id, from_group, to_group, created_at) VALUES (?, ?, ?, ?)",
      )
      .bind(Number(p.id), source.id, target.id, Date.now())
      .run();
    await foldGroupDeltas(db);
    const after = await rows(p);
    expect(after.groups.find((g) => g.id === target.id)?.count).toBe(3 + 4);
    expect(after.groups.find((g) => g.id === source.id)?.count).toBe(2);
  });

  it("a fold that fails loses nothing: the deltas stay and the next fold applies them once", async () => {
    const p = await createTestProject("fold-fail");
    await send(p, { delta: 6 });
    const db = await metaDbOf(p.id);
    const failing = new Proxy(db, {
      get(target, prop) {
        if (prop === "batch") return async () => Promise.reject(new Error("D1 is down"));
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await expect(foldGroupDeltas(failing)).rejects.toThrow("D1 is down");
    expect((await rows(p)).groups.map((g) => g.count)).toEqual([0]);
    await foldGroupDeltas(db);
    await foldGroupDeltas(db);
    const after = await rows(p);
    expect(after.groups.map((g) => g.count)).toEqual([6]);
    expect(after.hours).toBe(6);
  });
});

describe("fold cadence", () => {
  it("folds after every batch at 0, else once the backlog is long or old enough", () => {
    expect(foldAfterMs({ GROUP_FOLD_MS: "0" })).toBe(0);
    expect(foldAfterMs({})).toBe(FOLD_DEFAULT_MS);
    expect(foldAfterMs({ GROUP_FOLD_MS: "soon" })).toBe(FOLD_DEFAULT_MS);
    const now = 1_000_000;
    expect(foldDue({ pending: 1, oldest: now }, now, 0)).toBe(true);
    expect(foldDue({ pending: 1, oldest: now - 4_999 }, now, 5_000)).toBe(false);
    expect(foldDue({ pending: 1, oldest: now - 5_000 }, now, 5_000)).toBe(true);
    expect(foldDue({ pending: FOLD_MAX_PENDING, oldest: now }, now, 5_000)).toBe(true);
  });

  it("sums deltas per group and per hour cell, keeping the latest event's fields", () => {
    const g = (n: number, last: number, lastId: string, uu: [number, number][]) => ({
      p: 1,
      g: "g1",
      f: "fp",
      ver: 1,
      type: "E",
      msg: lastId,
      culprit: null,
      level: "error",
      platform: null,
      first: last - 10,
      last,
      lastId,
      release: null,
      n,
      uu,
    });
    const sums = sumDeltas([
      {
        groups: JSON.stringify([g(2, 200, "late", [[3, 2]])]),
        hours: JSON.stringify([[1, "g1", 0, "", "", 2, 200]]),
      },
      {
        groups: JSON.stringify([g(5, 100, "early", [[3, 5]])]),
        hours: JSON.stringify([[1, "g1", 0, "", "", 5, 100]]),
      },
    ]);
    expect(sums.groups).toHaveLength(1);
    expect(sums.groups[0]).toMatchObject({ n: 7, first: 90, last: 200, lastId: "late", msg: "late" });
    expect(sums.groups[0]!.u?.[3]).toBe("5");
    expect(sums.hours).toEqual([[1, "g1", 0, "", "", 7, 200]]);
  });
});
