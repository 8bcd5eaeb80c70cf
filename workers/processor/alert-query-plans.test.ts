// Every D1 statement alerting adds (the processor's hook and its regression update, the alerter,
// the alert-rules API, alert retention), recorded from real runs on real local D1 and checked with
// EXPLAIN QUERY PLAN: none may scan a table, so what they read grows with the batch and the rules,
// never with a project's groups or events.
import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createTestProject, metaDbOf } from "../../test/helpers";
import { type Recorded, recordingDb } from "../../test/recording-db";
import { handleAlertBatch } from "../alerter/handle-alert-batch";
import consoleWorker from "../console/index";
import { expireAlertData } from "./alert-retention";
import { batchBody, deliver, raygunItem } from "./test-helpers";

async function scans(r: Recorded): Promise<string[]> {
  const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
    .bind(...r.params)
    .all<{ detail: string }>();
  return plan.results
    .map((x) => x.detail)
    .filter(
      (d) => /^SCAN /.test(d) && !/^SCAN (json_each|CONSTANT ROW|\w+ VIRTUAL TABLE INDEX|d$|r$)/.test(d),
    );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("alerting queries (EXPLAIN QUERY PLAN)", () => {
  it("none scans a table", async () => {
    const p = await createTestProject("alert-plans");
    // Some unrelated groups, so that a scan would have something to scan.
    await deliver([batchBody(Array.from({ length: 5 }, (_, i) => raygunItem(p, {}, `noise ${i}`)))]);
    const rule = await api<{ id: string }>(`/api/v1/projects/${p.id}/alert-rules`, {
      method: "POST",
      body: JSON.stringify({
        name: "all",
        triggers: ["new_issue", "regression", "spike", "frequency"],
        threshold: { count: 1, windowMinutes: 5 },
        target: { type: "webhook", url: "https://hooks.example.com/x" },
      }),
    });
    const log: Recorded[] = [];
    const DB = recordingDb(log);
    // The control database and every metadata shard (alert state and minute counts live with the
    // groups), each recorded.
    const shards = Object.fromEntries(
      Object.entries(env)
        .filter(([k]) => /^DB_SHARD_\d+$/.test(k))
        .map(([k, v]) => [k, recordingDb(log, v as D1Database)]),
    );
    const sent: string[] = [];
    const Q_ALERTS = {
      send: async () => {},
      sendBatch: async (m: { body: string }[]) => void sent.push(...m.map((x) => x.body)),
    };
    const item = () => {
      const it = raygunItem(p, {}, "planned");
      const report = JSON.parse(it.payload as string);
      report.details.version = "2.0.0";
      const payload = JSON.stringify(report);
      return { ...it, payload, size: payload.length };
    };
    await deliver([batchBody([item(), item()])], { environment: { ...env, DB, ...shards, Q_ALERTS } });
    const groups = await api<{ groups: { id: string; message: string }[] }>(
      `/api/v1/projects/${p.id}/groups`,
    );
    const g = groups.body.groups.find((x) => x.message === "planned")!;
    await api(`/api/v1/projects/${p.id}/groups/${g.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "resolved", resolvedInRelease: "1.0.0" }),
    });
    await deliver([batchBody([item()])], { environment: { ...env, DB, ...shards, Q_ALERTS } });
    expect(sent.length).toBeGreaterThanOrEqual(2);

    // The alerter, on one of those alerts.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(null, { status: 503 }));
    const batch = createMessageBatch("sluice-alerts", [
      { id: "m", timestamp: new Date(), attempts: 1, body: sent[0]! },
    ]);
    await handleAlertBatch(batch, { ...env, DB });
    // The console's alert-rules routes.
    const base = `/api/v1/projects/${p.id}/alert-rules`;
    for (const [path, method] of [
      [base, "GET"],
      [`${base}/${rule.body.id}`, "GET"],
      [`${base}/${rule.body.id}`, "PATCH"],
      [`${base}/${rule.body.id}/deliveries`, "GET"],
    ] as const) {
      const res = await consoleWorker.fetch(
        new Request(`http://sluice.test${path}`, {
          method,
          headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
          body: method === "PATCH" ? JSON.stringify({ cooldownMinutes: 10 }) : undefined,
        }),
        { ...env, DB, ...shards } as unknown as ConsoleEnv,
        createExecutionContext(),
      );
      expect(res.status, path).toBe(200);
    }
    // Retention's statements.
    const home = await metaDbOf(p.id);
    const shardDb = Object.entries(env).find(([k, v]) => /^DB_SHARD_/.test(k) && v === home)?.[0];
    await expireAlertData(DB, shardDb ? shards[shardDb]! : DB, Number(p.id), Date.now(), Date.now());

    const statements = log.filter((r) => /alert_|group_minutes|resolved_release_key/.test(r.sql));
    expect(statements.length).toBeGreaterThanOrEqual(12);
    const bad: { sql: string; plan: string[] }[] = [];
    for (const r of statements) {
      const v = await scans(r);
      if (v.length > 0) bad.push({ sql: r.sql.replace(/\s+/g, " ").slice(0, 160), plan: v });
    }
    expect(bad).toEqual([]);
  });

  it("the checker flags a scan", async () => {
    expect(
      await scans({ sql: "SELECT * FROM alert_deliveries WHERE status = ?", params: ["x"] }),
    ).not.toEqual([]);
    expect(
      await scans({
        sql: "SELECT g.id FROM json_each(?) d JOIN error_groups g ON g.status = d.value",
        params: ['["resolved"]'],
      }),
    ).not.toEqual([]);
  });
});
