// Retention of alerting data on real local D1: per-minute counts go after two hours, the delivery
// log after the project's retention, cooldowns once their group is gone.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import { api, createTestProject, metaDbOf } from "../../test/helpers";
import { runRetention } from "./retention";
import { batchBody, deliver, raygunItem } from "./test-helpers";

const HOUR = 3_600_000;
const count = async (sql: string, ...args: unknown[]) => countIn(env.DB, sql, ...args);
const countIn = async (db: D1Database, sql: string, ...args: unknown[]) =>
  (await db
    .prepare(sql)
    .bind(...args)
    .first<{ n: number }>())!.n;

describe("alert data retention", () => {
  it("prunes minute counts, old deliveries and cooldowns of deleted groups, and nothing else", async () => {
    const p = await createTestProject("alert-retention");
    expect(
      (
        await api(`/api/v1/projects/${p.id}/settings`, {
          method: "PATCH",
          body: JSON.stringify({ retentionDays: 2 }),
        })
      ).status,
    ).toBe(200);
    const rule = await api<{ id: string }>(`/api/v1/projects/${p.id}/alert-rules`, {
      method: "POST",
      body: JSON.stringify({
        name: "r",
        triggers: ["new_issue", "spike"],
        target: { type: "webhook", url: "https://hooks.example.com/x" },
      }),
    });
    const sent: string[] = [];
    const q = {
      send: async () => {},
      sendBatch: async (m: { body: string }[]) => void sent.push(...m.map((x) => x.body)),
    };
    await deliver([batchBody([raygunItem(p, {}, "old news")])], { environment: { ...env, Q_ALERTS: q } });
    expect(sent).toHaveLength(1);
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO alert_deliveries (rule_id, id, project_id, trigger, status, attempts, created_at, updated_at)
       VALUES (?, ?, ?, 'new_issue', 'delivered', 1, ?, ?)`,
    )
      .bind(rule.body.id, newEventId(now), Number(p.id), now, now)
      .run();
    // Minute counts and cooldowns live with the groups, on the project's metadata shard.
    const shard = await metaDbOf(p.id);
    const minutes = () =>
      countIn(shard, "SELECT count(*) AS n FROM group_minutes WHERE project_id = ?", Number(p.id));
    const deliveries = () =>
      count("SELECT count(*) AS n FROM alert_deliveries WHERE rule_id = ?", rule.body.id);
    const state = () =>
      countIn(shard, "SELECT count(*) AS n FROM alert_state WHERE rule_id = ?", rule.body.id);
    expect([await minutes(), await deliveries(), await state()]).toEqual([1, 1, 1]);

    await runRetention(env, now + HOUR);
    expect([await minutes(), await deliveries(), await state()]).toEqual([1, 1, 1]);
    await runRetention(env, now + 3 * HOUR);
    expect([await minutes(), await deliveries(), await state()]).toEqual([0, 1, 1]);
    // Past the 2-day retention the group goes, and with it its cooldown and the old deliveries.
    await runRetention(env, now + 3 * 24 * HOUR);
    expect([await minutes(), await deliveries(), await state()]).toEqual([0, 0, 0]);
    expect(await count("SELECT count(*) AS n FROM alert_rules WHERE id = ?", rule.body.id)).toBe(1);
  });
});
