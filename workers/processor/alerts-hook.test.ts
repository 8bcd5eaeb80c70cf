// Alert decisions of the processor (alerts-hook.ts) on real local D1: batches go through the real
// processor handler; the alerts queue is a recording stand-in so each test sees exactly what the
// hook decided (the alerter has its own tests, and test/e2e/alerts.test.ts runs the whole path).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AlertMessage } from "../../shared/alerts/message";
import type { IngestItem } from "../../shared/queue-message";
import { api, createTestProject, metaDbOf, type TestProject } from "../../test/helpers";
import { batchBody, deliver, raygunItem } from "./test-helpers";

function recordingQueue() {
  const sent: AlertMessage[] = [];
  const q = {
    async send(body: string) {
      sent.push(JSON.parse(body));
    },
    async sendBatch(msgs: { body: string }[]) {
      for (const m of msgs) sent.push(JSON.parse(m.body));
    },
  };
  return { sent, q };
}

/** An error report; `message` also names its class, so each message is its own group. */
function item(p: TestProject, message: string, release?: string): IngestItem {
  const it = raygunItem(p, {}, message);
  const report = JSON.parse(it.payload as string);
  report.details.error.className = `${message.replace(/\W/g, "")}Error`;
  if (release !== undefined) report.details.version = release;
  const payload = JSON.stringify(report);
  return { ...it, payload, size: payload.length };
}

async function rule(p: TestProject, body: Record<string, unknown>) {
  const r = await api<{ id: string }>(`/api/v1/projects/${p.id}/alert-rules`, {
    method: "POST",
    body: JSON.stringify({
      name: "r",
      target: { type: "webhook", url: "https://hooks.example.com/x" },
      ...body,
    }),
  });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function onlyGroup(p: TestProject) {
  const g = await api<{ groups: { id: string; status: string; regressedAt: string | null }[] }>(
    `/api/v1/projects/${p.id}/groups`,
  );
  expect(g.body.groups).toHaveLength(1);
  return g.body.groups[0]!;
}

describe("processor alert decisions", () => {
  it("new_issue once per group, even across batches and redelivery", async () => {
    const p = await createTestProject("alerts-new");
    const ruleId = await rule(p, { triggers: ["new_issue"] });
    const { sent, q } = recordingQueue();
    const environment = { ...env, Q_ALERTS: q };
    const first = batchBody([item(p, "alpha"), item(p, "alpha")]);
    await deliver([first], { environment });
    await deliver([first], { environment }); // the same message redelivered
    await deliver([batchBody([item(p, "alpha")])], { environment });
    expect(sent.map((m) => [m.trigger, m.ruleId])).toEqual([["new_issue", ruleId]]);
    expect(sent[0]!.group).toMatchObject({ count: 2, status: "active", message: "alpha" });
    expect(sent[0]!.event?.id).toMatch(/^[0-9a-f]{32}$/);
    // A second group is new too.
    await deliver([batchBody([item(p, "beta")])], { environment });
    expect(sent.map((m) => m.group?.message)).toEqual(["alpha", "beta"]);
  });

  it("projects without rules decide nothing; disabled rules neither", async () => {
    const p = await createTestProject("alerts-none");
    const { sent, q } = recordingQueue();
    await deliver([batchBody([item(p, "quiet")])], { environment: { ...env, Q_ALERTS: q } });
    const ruleId = await rule(p, { triggers: ["new_issue"], enabled: false });
    await deliver([batchBody([item(p, "quiet 2")])], { environment: { ...env, Q_ALERTS: q } });
    expect(sent).toEqual([]);
    expect(ruleId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("regression: a resolved group reopens on a new event, records when, and alerts", async () => {
    const p = await createTestProject("alerts-regress");
    await rule(p, { triggers: ["regression"] });
    const { sent, q } = recordingQueue();
    const environment = { ...env, Q_ALERTS: q };
    await deliver([batchBody([item(p, "gamma")])], { environment });
    const g = await onlyGroup(p);
    const resolved = await api(`/api/v1/projects/${p.id}/groups/${g.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "resolved" }),
    });
    expect(resolved.status).toBe(200);
    expect(sent).toEqual([]);
    await deliver([batchBody([item(p, "gamma")])], { environment });
    const after = await onlyGroup(p);
    expect(after.status).toBe("active");
    expect(after.regressedAt).not.toBeNull();
    expect(sent.map((m) => [m.trigger, m.group?.status])).toEqual([["regression", "active"]]);
  });

  it("resolve in next release: only an event of a later release reopens the group", async () => {
    const p = await createTestProject("alerts-release");
    await rule(p, { triggers: ["regression"], cooldownMinutes: 0 });
    const { sent, q } = recordingQueue();
    const environment = { ...env, Q_ALERTS: q };
    await deliver([batchBody([item(p, "delta", "1.9.0")])], { environment });
    const g = await onlyGroup(p);
    const patch = await api<{ status: string; resolvedInRelease: string }>(
      `/api/v1/projects/${p.id}/groups/${g.id}`,
      { method: "PATCH", body: JSON.stringify({ status: "resolved", resolvedInRelease: "1.10.0" }) },
    );
    expect(patch.body).toMatchObject({ status: "resolved", resolvedInRelease: "1.10.0" });
    // Old clients still on 1.9.0 and 1.10.0 itself, and an event without a release: still resolved.
    await deliver([batchBody([item(p, "delta", "1.9.0"), item(p, "delta", "1.10.0"), item(p, "delta")])], {
      environment,
    });
    expect((await onlyGroup(p)).status).toBe("resolved");
    expect(sent).toEqual([]);
    await deliver([batchBody([item(p, "delta", "1.11.0")])], { environment });
    const after = await onlyGroup(p);
    expect(after).toMatchObject({ status: "active", resolvedInRelease: null });
    expect(after.regressedAt).not.toBeNull();
    expect(sent.map((m) => m.trigger)).toEqual(["regression"]);
  });

  it("a PATCH with resolvedInRelease but another status is a 400", async () => {
    const p = await createTestProject("alerts-release-400");
    await deliver([batchBody([item(p, "eps")])]);
    const g = await onlyGroup(p);
    const r = await api<{ error: string }>(`/api/v1/projects/${p.id}/groups/${g.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "ignored", resolvedInRelease: "1.0" }),
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/resolvedInRelease/);
  });

  it("a burst is one spike alert, not one per event or batch", async () => {
    const p = await createTestProject("alerts-spike");
    await rule(p, { triggers: ["spike"] });
    const { sent, q } = recordingQueue();
    const environment = { ...env, Q_ALERTS: q };
    // 5 events: below the floor of 10 per minute.
    await deliver([batchBody(Array.from({ length: 5 }, () => item(p, "zeta")))], { environment });
    expect(sent).toEqual([]);
    for (let i = 0; i < 5; i++)
      await deliver([batchBody(Array.from({ length: 10 }, () => item(p, "zeta")))], { environment });
    expect(sent.map((m) => m.trigger)).toEqual(["spike"]);
    expect(sent[0]!.group!.count).toBeGreaterThan(10);
    const minutes = await (await metaDbOf(p.id))
      .prepare("SELECT sum(count) AS n FROM group_minutes WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(minutes?.n).toBe(55);
  });

  it("frequency: more than count events in the window", async () => {
    const p = await createTestProject("alerts-frequency");
    await rule(p, { triggers: ["frequency"], threshold: { count: 6, windowMinutes: 5 } });
    const { sent, q } = recordingQueue();
    const environment = { ...env, Q_ALERTS: q };
    await deliver([batchBody(Array.from({ length: 6 }, () => item(p, "eta")))], { environment });
    expect(sent).toEqual([]);
    await deliver([batchBody([item(p, "eta")])], { environment });
    expect(sent.map((m) => [m.trigger, m.group?.count])).toEqual([["frequency", 7]]);
  });

  it("a failed alerts queue retries the batch, and the retry sends the alert", async () => {
    const p = await createTestProject("alerts-queue-down");
    await rule(p, { triggers: ["new_issue"] });
    const { sent, q } = recordingQueue();
    const broken = {
      send: async () => {
        throw new Error("queue down");
      },
      sendBatch: async () => {
        throw new Error("queue down");
      },
    };
    const body = batchBody([item(p, "theta")]);
    const { result } = await deliver([body], { environment: { ...env, Q_ALERTS: broken } });
    expect(result.retryMessages).toHaveLength(1);
    expect(sent).toEqual([]);
    const again = await deliver([body], { attempts: 2, environment: { ...env, Q_ALERTS: q } });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(sent.map((m) => m.trigger)).toEqual(["new_issue"]);
  });
});
