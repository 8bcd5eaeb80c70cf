// Retention over more projects than one run's D1 budget reaches, inside workerd against real local
// D1: a run never makes more D1 calls than its budget (an invocation may make 1,000, and a call past
// that fails every step after it), and the next run goes on with the projects the last one did not
// reach, so that every project's expired data goes within a few runs whatever their number.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { runRetention } from "./retention";

const DAY = 86_400_000;

/** Expired outcome rows of `p` still on its shard. */
async function outcomeRows(p: TestProject): Promise<number> {
  const db = await metaDbOf(p.id);
  const row = await db
    .prepare("SELECT count(*) AS n FROM outcomes WHERE project_id = ?")
    .bind(p.id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("retention's D1 budget", () => {
  it("stays within its D1 calls and reaches every project over successive runs", async () => {
    const projects: TestProject[] = [];
    for (let i = 0; i < 12; i++) projects.push(await createTestProject(`budget-${i}`));
    const now = Date.now();
    for (const p of projects) {
      const r = await api(`/api/v1/projects/${p.id}/settings`, {
        method: "PATCH",
        body: JSON.stringify({ retentionDays: 1 }),
      });
      expect(r.status).toBe(200);
      // Three outcome minutes of two days ago: past a one-day retention.
      const db = await metaDbOf(p.id);
      for (let m = 0; m < 3; m++)
        await db
          .prepare(
            "INSERT INTO outcomes (project_id, minute, category, outcome, quantity) VALUES (?, ?, 'error', 'accepted', 1)",
          )
          .bind(p.id, now - 2 * DAY + m * 60_000)
          .run();
    }
    for (const p of projects) expect(await outcomeRows(p)).toBe(3);

    // Enough for the fixed steps and a few projects, not for twelve.
    const d1Calls = 180;
    const cleanedBy: string[][] = [];
    for (let run = 0; run < 12 && projects.some((p) => !cleanedBy.flat().includes(p.id)); run++) {
      const report = await runRetention(env, now, { d1Calls });
      expect(report.errors).toEqual([]);
      expect(report.d1Calls).toBeLessThanOrEqual(d1Calls);
      expect(report.projectsVisited).toBeGreaterThan(0);
      const done: string[] = [];
      for (const p of projects)
        if (!cleanedBy.flat().includes(p.id) && (await outcomeRows(p)) === 0) done.push(p.id);
      cleanedBy.push(done);
    }
    // The first run could not reach all twelve; later runs reached the rest, each going on from
    // where the one before stopped (no run found nothing new to clean until all were clean).
    expect(cleanedBy[0]!.length).toBeGreaterThan(0);
    expect(cleanedBy[0]!.length).toBeLessThan(projects.length);
    for (const done of cleanedBy) expect(done.length).toBeGreaterThan(0);
    for (const p of projects) expect(await outcomeRows(p)).toBe(0);
  });

  it("with the default budget, one run reaches every project of a small installation", async () => {
    const p = await createTestProject("budget-default");
    const r = await api(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ retentionDays: 1 }),
    });
    expect(r.status).toBe(200);
    const db = await metaDbOf(p.id);
    const now = Date.now();
    await db
      .prepare(
        "INSERT INTO outcomes (project_id, minute, category, outcome, quantity) VALUES (?, ?, 'error', 'accepted', 1)",
      )
      .bind(p.id, now - 2 * DAY)
      .run();
    const report = await runRetention(env, now);
    expect(report.errors).toEqual([]);
    expect(report.d1Calls).toBeLessThanOrEqual(700);
    expect(await outcomeRows(p)).toBe(0);
  });
});
