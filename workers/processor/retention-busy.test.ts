// Retention's rotation over projects when one project can never be finished by a visit (a busy
// project: a batch lands on its shard between every fold, so its group deltas always wait), inside
// workerd against real local D1: that project is visited in full on each run, and the rotation
// still moves on to the projects one run does not reach, instead of starting again at it.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import { createTestProject, type TestProject } from "../../test/helpers";
import { projectsCursor, runRetention } from "./retention";
import { deferredDelta, expiringProject, outcomeRows } from "./test-helpers";

describe("retention's rotation with a project it never finishes", () => {
  it("visits the busy project in full each run and still reaches every other project", async () => {
    const now = Date.now();
    const busy = await createTestProject("busy");
    // One batch of the busy project with folding deferred: its group delta is the template of the
    // deltas that keep arriving.
    const { db: busyDb, delta: template } = await deferredDelta(busy);
    const others: TestProject[] = [];
    for (let i = 0; i < 120; i++) others.push(await expiringProject(`busy-other-${i}`, now, 3));

    // Every D1 batch on the busy project's shard is followed by another batch of that project.
    const busyShard = shardDbs(env).indexOf(busyDb);
    const arriving = new Proxy(busyDb, {
      get(db, key) {
        if (key !== "batch") return Reflect.get(db, key);
        return async (stmts: D1PreparedStatement[]) => {
          const out = await db.batch(stmts);
          await db
            .prepare("INSERT INTO group_deltas (batch_id, created_at, groups, hours) VALUES (?, ?, ?, ?)")
            .bind(crypto.randomUUID(), Date.now(), template.groups, template.hours)
            .run();
          return out;
        };
      },
    });
    const busyEnv = { ...env, [`DB_SHARD_${busyShard}`]: arriving } as typeof env;

    const cleanedBy: number[] = [];
    let left = others.length;
    for (let run = 0; run < 8 && left > 0; run++) {
      const report = await runRetention(busyEnv, now, { d1Calls: 150 });
      expect(report.errors).toEqual([]);
      expect(report.d1Calls).toBeLessThanOrEqual(150);
      const saved = projectsCursor(
        (await env.DB.prepare("SELECT after FROM sweep_cursors WHERE prefix = 'retention:projects'").first<{
          after: string;
        }>())!.after,
      );
      // The busy project waits in the retry list, never as the rotation's cursor.
      expect(saved.retry).toContain(Number(busy.id));
      expect(saved.next).not.toBe(Number(busy.id));
      let remaining = 0;
      for (const p of others) if ((await outcomeRows(p)) > 0) remaining++;
      cleanedBy.push(left - remaining);
      left = remaining;
    }
    expect(left).toBe(0);
    for (const n of cleanedBy) expect(n).toBeGreaterThan(0);
  });

  it("stays within its D1 calls when a shard holds thousands of group deltas waiting for a fold", async () => {
    const now = Date.now();
    const p = await createTestProject("backlog-of-deltas");
    const { db } = await deferredDelta(p);
    // 4,000 deltas of the project (a fold outage's backlog): every visit's fold has work to do.
    await db
      .prepare(
        `INSERT INTO group_deltas (batch_id, created_at, groups, hours)
         SELECT 'backlog-' || j.value, d.created_at, d.groups, d.hours
         FROM json_each(?) j CROSS JOIN (SELECT created_at, groups, hours FROM group_deltas
           WHERE instr(groups, ?) > 0 LIMIT 1) d`,
      )
      .bind(JSON.stringify(Array.from({ length: 4000 }, (_, i) => i)), `"p":${p.id},`)
      .run();
    for (const d1Calls of [200, 400]) {
      const report = await runRetention(env, now, { d1Calls });
      expect(report.errors).toEqual([]);
      expect(report.d1Calls).toBeLessThanOrEqual(d1Calls);
    }
  });
});
