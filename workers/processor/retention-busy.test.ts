// Retention's rotation over projects when one project can never be finished by a visit (a busy
// project: a batch lands on its shard between every fold, so its group deltas always wait), inside
// workerd against real local D1: that project is visited in full on each run, and the rotation
// still moves on to the projects one run does not reach, instead of starting again at it.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import type { IngestBatch } from "../../shared/queue-message";
import { api, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { projectsCursor, runRetention } from "./retention";
import { deliver, raygunItem } from "./test-helpers";

const DAY = 86_400_000;

async function outcomeRows(p: TestProject): Promise<number> {
  const row = await (await metaDbOf(p.id))
    .prepare("SELECT count(*) AS n FROM outcomes WHERE project_id = ?")
    .bind(p.id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("retention's rotation with a project it never finishes", () => {
  it("visits the busy project in full each run and still reaches every other project", async () => {
    const now = Date.now();
    const busy = await createTestProject("busy");
    // One batch of the busy project with folding deferred: its group delta is the template of the
    // deltas that keep arriving.
    const id = `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;
    await deliver([JSON.stringify({ v: 1, id, items: [raygunItem(busy)] } satisfies IngestBatch)], {
      environment: { ...env, GROUP_FOLD_MS: "600000" },
    });
    const busyDb = await metaDbOf(busy.id);
    const template = await busyDb
      .prepare("SELECT batch_id, created_at, groups, hours FROM group_deltas WHERE instr(groups, ?) > 0")
      .bind(`"p":${busy.id},`)
      .first<{ batch_id: string; created_at: number; groups: string; hours: string }>();
    expect(template).not.toBeNull();

    const others: TestProject[] = [];
    for (let i = 0; i < 120; i++) {
      const p = await createTestProject(`busy-other-${i}`);
      others.push(p);
      const r = await api(`/api/v1/projects/${p.id}/settings`, {
        method: "PATCH",
        body: JSON.stringify({ retentionDays: 1 }),
      });
      expect(r.status).toBe(200);
      await (await metaDbOf(p.id))
        .prepare(
          `INSERT INTO outcomes (project_id, minute, category, outcome, quantity)
           SELECT ?1, ?2 + value * 60000, 'error', 'accepted', 1 FROM json_each('[0,1,2]')`,
        )
        .bind(p.id, now - 2 * DAY)
        .run();
    }

    // Every D1 batch on the busy project's shard is followed by another batch of that project.
    const busyShard = shardDbs(env).indexOf(busyDb);
    const arriving = new Proxy(busyDb, {
      get(db, key) {
        if (key !== "batch") return Reflect.get(db, key);
        return async (stmts: D1PreparedStatement[]) => {
          const out = await db.batch(stmts);
          await db
            .prepare("INSERT INTO group_deltas (batch_id, created_at, groups, hours) VALUES (?, ?, ?, ?)")
            .bind(crypto.randomUUID(), Date.now(), template!.groups, template!.hours)
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
    const id = `${Date.now().toString(16).padStart(12, "0")}${crypto.randomUUID()}`;
    await deliver([JSON.stringify({ v: 1, id, items: [raygunItem(p)] } satisfies IngestBatch)], {
      environment: { ...env, GROUP_FOLD_MS: "600000" },
    });
    const db = await metaDbOf(p.id);
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
