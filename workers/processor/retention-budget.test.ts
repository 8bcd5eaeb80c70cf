// Retention over more projects than one run's D1 budget reaches, inside workerd against real local
// D1: a run never makes more D1 calls than its budget (an invocation may make 1,000, and a call past
// that fails every step after it); projects are visited in pages whose deletes share one batch per
// shard, so a run reaches many projects per D1 call; the next run goes on with the projects the
// last one did not reach; and a project with more to delete than a light visit takes gets a full
// visit of its own.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TestProject } from "../../test/helpers";
import { runRetention } from "./retention";
import { expiringProject, outcomeRows } from "./test-helpers";

describe("retention's D1 budget", () => {
  it("stays within its D1 calls, reaches many projects per call and every project over successive runs", async () => {
    const now = Date.now();
    const projects: TestProject[] = [];
    for (let i = 0; i < 120; i++) projects.push(await expiringProject(`budget-${i}`, now, 3));
    for (const p of projects.slice(0, 3)) expect(await outcomeRows(p)).toBe(3);

    // The fixed steps and the sweeps' reserve take most of 150 calls: ~30 are left for projects, so
    // visits of ~9 calls each (with 40 kept in hand) would reach none; pages of 25 reach dozens (50
    // when written), not all 120.
    const d1Calls = 150;
    const cleanedBy: string[][] = [];
    for (let run = 0; run < 6 && projects.some((p) => !cleanedBy.flat().includes(p.id)); run++) {
      const report = await runRetention(env, now, { d1Calls });
      expect(report.errors).toEqual([]);
      expect(report.d1Calls).toBeLessThanOrEqual(d1Calls);
      const done: string[] = [];
      for (const p of projects)
        if (!cleanedBy.flat().includes(p.id) && (await outcomeRows(p)) === 0) done.push(p.id);
      cleanedBy.push(done);
    }
    expect(cleanedBy[0]!.length).toBeGreaterThanOrEqual(40);
    expect(cleanedBy[0]!.length).toBeLessThan(projects.length);
    // Later runs went on from where the one before stopped (each found new projects to clean).
    for (const done of cleanedBy) expect(done.length).toBeGreaterThan(0);
    expect(cleanedBy.length).toBeLessThanOrEqual(4);
    for (const p of projects) expect(await outcomeRows(p)).toBe(0);
  });

  it("gives a project with a backlog a full visit, and one run at the default budget reaches all 122 projects", async () => {
    const now = Date.now();
    // 1,200 expired minutes: more than a light visit's statement deletes (500).
    const backlog = await expiringProject("budget-backlog", now, 1_200);
    const small = await expiringProject("budget-small", now, 1);
    const report = await runRetention(env, now);
    expect(report.errors).toEqual([]);
    expect(report.d1Calls).toBeLessThanOrEqual(700);
    expect(await outcomeRows(backlog)).toBe(0);
    expect(await outcomeRows(small)).toBe(0);
  });
});
