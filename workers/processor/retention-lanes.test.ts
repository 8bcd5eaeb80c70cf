// Retention's segment pass when there are more lanes (a metadata shard and a retention period
// each) than one run's pages, inside workerd against real local D1 and R2: the lanes take their
// pages in turns that go on from where the last run stopped, so the last lane of the order is
// reached too (before, a fixed order left it, and the segments only it would reach, for good).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { projectShards, shardDbs } from "../../shared/db/shards";
import { segmentKey } from "../../shared/storage/segments";
import { api, createTestProject, setRetention, type TestProject } from "../../test/helpers";
import { runRetention } from "./retention";

const DAY = 86_400_000;

describe("retention's segment lanes", () => {
  it("reaches the last of more lanes than a run has pages for, over a few runs", async () => {
    const now = Date.now();
    const dbs = shardDbs(env);
    // 32 retention periods and two more below, so 4 shards × 35 lanes (with unknown projects' 90 days).
    for (let d = 1; d <= 32; d++) await setRetention(await createTestProject(`lane-${d}`), d);
    // The project of the last lane: 90 days, on the last shard.
    const p = await createTestProject("lane-last");
    await setRetention(p, 90);
    const last = dbs.length - 1;
    const moved = await api(`/api/v1/projects/${p.id}/shard`, {
      method: "POST",
      body: JSON.stringify({ shard: last }),
    });
    expect(moved.status).toBe(200);
    expect((await projectShards(env, [p.id])).get(p.id)).toBe(last);
    // On every shard a segment 100 days old holding a share of a project kept 10 years: every lane
    // takes a page of it (and keeps it), so there are more pages to take than a run's 40.
    const kept = await createTestProject("lane-kept");
    await setRetention(kept, 3650);
    const segment = async (db: D1Database, owner: TestProject) => {
      const key = segmentKey(now - 100 * DAY, `lane-${crypto.randomUUID()}`);
      await env.BLOBS.put(key, "x");
      await db
        .prepare(
          "INSERT INTO segments (key, created_at, bytes, event_count, contents) VALUES (?, ?, 1, 1, ?)",
        )
        .bind(key, now - 100 * DAY, JSON.stringify({ [owner.id]: { n: 1, ids: [] } }))
        .run();
      return key;
    };
    for (const db of dbs) await segment(db, kept);
    // The last shard's other segment holds the 90-day project's share alone: it expires.
    const target = await segment(dbs[last]!, p);
    const gone = async () =>
      (await dbs[last]!.prepare("SELECT 1 AS x FROM segments WHERE key = ?").bind(target).first()) === null;
    let runs = 0;
    while (!(await gone()) && runs < 6) {
      const report = await runRetention(env, now, { segmentPages: 40 });
      expect(report.errors).toEqual([]);
      runs++;
    }
    expect(await gone()).toBe(true);
    expect(await env.BLOBS.head(target)).toBeNull();
    expect(runs).toBeGreaterThan(1);
  });
});
