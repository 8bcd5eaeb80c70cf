// The processor's share of the issue workflow against real local D1: affected users folded per
// batch, including when another batch changed the same group's sketch between this batch's read
// and its write (the upsert then merges in SQL instead of overwriting), and redelivery changing
// nothing; facets written once per group and value.
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { Hll } from "../../shared/hll";
import type { IngestItem } from "../../shared/queue-message";
import { api, createTestProject, metaDbOf, shardBindingOf, type TestProject } from "../../test/helpers";
import type { StoredRef } from "./d1-writes";
import { feedbackStatements } from "./group-workflow";
import type { Prepared } from "./prepare";
import { processBatch } from "./process-batch";
import { raygunItem } from "./test-helpers";

let p: TestProject;
beforeAll(async () => {
  p = await createTestProject("group-workflow");
});

const itemFor = (user: string): IngestItem => {
  const it = raygunItem(p, {}, "users gone missing");
  const report = JSON.parse(it.payload!);
  report.details.user = { identifier: user };
  report.details.version = "9.9.9";
  it.payload = JSON.stringify(report);
  it.size = it.payload.length;
  return it;
};
const users = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => itemFor(`user-${from + i}`));
/** The estimate the processor must store: the sketch of exactly these users' keys. */
const estimateOf = (...ranges: [number, number][]) => {
  const s = new Hll();
  for (const [from, to] of ranges) for (let i = from; i < to; i++) s.add(`u:user-${i}`);
  return s.estimate();
};
const message = (items: IngestItem[]) => ({
  id: `m-${crypto.randomUUID()}`,
  timestamp: new Date(),
  attempts: 1,
  body: JSON.stringify({
    v: 1,
    id: `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`,
    items,
  }),
});
/** `db` stands in for the project's metadata shard (where its groups are written). */
const run = async (msgs: ReturnType<typeof message>[], db?: D1Database, vars: Record<string, string> = {}) =>
  processBatch(createMessageBatch("sluice-errors-0", msgs), {
    ...env,
    ...vars,
    ...(db ? { [await shardBindingOf(p.id)]: db } : {}),
  });
const theGroup = async () =>
  (await api<{ groups: { id: string; count: number; users: number }[] }>(`/api/v1/projects/${p.id}/groups`))
    .body.groups[0]!;

describe("affected users in the processor", () => {
  it("folds each batch's users into the group's sketch, and a redelivery changes nothing", async () => {
    const first = message(users(0, 40));
    await run([first]);
    expect(await theGroup()).toMatchObject({ count: 40, users: estimateOf([0, 40]) });
    await run([first]);
    expect(await theGroup()).toMatchObject({ count: 40, users: estimateOf([0, 40]) });
    await run([message(users(20, 60))]);
    expect(await theGroup()).toMatchObject({ count: 80, users: estimateOf([0, 60]) });
    expect(Math.abs(estimateOf([0, 60]) - 60)).toBeLessThanOrEqual(2);
  });

  it("keeps both batches' users when another batch wrote the sketch after this one read it", async () => {
    // This batch reads the sketch, then another batch (users 100-149) commits before its D1 write.
    let raced = false;
    const racing = new Proxy(await metaDbOf(p.id), {
      get(target, prop) {
        if (prop === "batch" && !raced)
          return async (stmts: D1PreparedStatement[]) => {
            raced = true;
            await run([message(users(100, 150))]);
            return target.batch(stmts);
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await run([message(users(150, 200))], racing);
    const g = await theGroup();
    expect(g.count).toBe(180);
    // 60 earlier + 50 + 50 distinct users: the union, not the last writer's sketch.
    expect(g.users).toBe(estimateOf([0, 60], [100, 200]));
    expect(estimateOf([0, 60], [100, 200])).toBeGreaterThan(estimateOf([0, 60], [150, 200]));
  });

  it("records the release facet once per group, not per batch", async () => {
    const shard = await metaDbOf(p.id);
    const facets = () =>
      shard
        .prepare("SELECT facet, value FROM group_facets WHERE project_id = ?")
        .bind(Number(p.id))
        .all<{ facet: string; value: string }>();
    expect((await facets()).results).toEqual([{ facet: "release", value: "9.9.9" }]);
    // Folding deferred (the deployed default): ledger row, segment row (4 entries), the batch's
    // group delta (its row and the AUTOINCREMENT sequence), outcome: no facet row, no group row.
    const m = await run([message(users(0, 5))], undefined, { GROUP_FOLD_MS: "600000" });
    expect(m.d1RowsWritten).toBe(1 + 4 + 2 + 1);
  });

  it("links feedback to its event's group by one index probe per event (EXPLAIN QUERY PLAN)", async () => {
    const shard = await metaDbOf(p.id);
    // Feedback rows without a group, so that a plan reading the project's rows has some to read.
    await shard.batch(
      Array.from({ length: 20 }, (_, i) =>
        shard
          .prepare(
            "INSERT INTO user_feedback (project_id, id, event_id, group_id, message, source, created_at) VALUES (?, ?, ?, NULL, 'x', 'api', 1)",
          )
          .bind(Number(p.id), `fb-plan-${i}`, i === 1 || i === 4 ? `ev-plan-${i}` : `ev-other-${i}`),
      ),
    );
    // Two groups of three events each; ev-plan-1 and ev-plan-4 have feedback waiting.
    const refs = Array.from(
      { length: 6 },
      (_, i): StoredRef => ({
        prepared: {
          item: { projectId: p.id, eventId: `ev-plan-${i}` },
          grouping: { groupId: `g-plan-${i % 2}` },
        } as unknown as Prepared,
        messageId: "m-plan",
        segmentKey: "k",
        offset: 0,
        length: 0,
      }),
    );
    const [link] = feedbackStatements(refs);
    const q = new SQLiteAsyncDialect().sqlToQuery(link!);
    const plan = await shard
      .prepare(`EXPLAIN QUERY PLAN ${q.sql}`)
      .bind(...q.params)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail);
    expect(
      details.some((d) => /user_feedback_event \(project_id=\? AND event_id=\?\)/.test(d)),
      details.join("\n"),
    ).toBe(true);
    // And it links exactly the two events with feedback, to their groups.
    const r = await shard
      .prepare(q.sql)
      .bind(...q.params)
      .run();
    expect(r.meta.changes).toBe(2);
    const linked = await shard
      .prepare(
        "SELECT event_id, group_id FROM user_feedback WHERE project_id = ? AND id LIKE 'fb-plan-%' AND group_id IS NOT NULL ORDER BY event_id",
      )
      .bind(Number(p.id))
      .all();
    expect(linked.results).toEqual([
      { event_id: "ev-plan-1", group_id: "g-plan-1" },
      { event_id: "ev-plan-4", group_id: "g-plan-0" },
    ]);
  });
});
