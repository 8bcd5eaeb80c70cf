// The alerter's consumer on real local D1 and the real dead-letter queue; the target is a stubbed
// fetch (workerd tests cannot open a listening socket), so each test scripts its answers. The
// whole path against a real HTTP receiver is test/e2e/alerts.test.ts.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AlertMessage } from "../../shared/alerts/message";
import { verifySignature } from "../../shared/alerts/signature";
import { newEventId } from "../../shared/ids";
import { api, createTestProject, type TestProject, waitFor } from "../../test/helpers";
import { handleAlertBatch } from "./handle-alert-batch";

const TARGET = "https://hooks.example.com/sluice";

afterEach(() => {
  vi.restoreAllMocks();
});

async function rule(p: TestProject, target = { type: "webhook", url: TARGET }) {
  const r = await api<{ id: string; secret: string }>(`/api/v1/projects/${p.id}/alert-rules`, {
    method: "POST",
    body: JSON.stringify({ name: "ops", triggers: ["new_issue"], target }),
  });
  expect(r.status).toBe(201);
  return r.body;
}

function alert(p: TestProject, ruleId: string): AlertMessage {
  const now = Date.now();
  return {
    v: 1,
    deliveryId: newEventId(now),
    ruleId,
    projectId: Number(p.id),
    trigger: "new_issue",
    decidedAt: now,
    group: {
      id: "0123456789abcdef",
      type: "TypeError",
      message: "x is <undefined>",
      level: "error",
      count: 1,
      firstSeen: now,
      lastSeen: now,
      status: "active",
    },
    event: {
      id: newEventId(now),
      occurredAt: new Date(now).toISOString(),
      release: "1.0.0",
      environment: "prod",
    },
  };
}

/** One consumer run over one message at `attempts`; returns the queue's verdict. */
async function run(body: unknown, attempts: number) {
  const batch = createMessageBatch("sluice-alerts", [
    { id: `a-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: JSON.stringify(body) },
  ]);
  // The queue result says that a message was retried, not after how long: record the delay.
  const delays: (number | undefined)[] = [];
  const msg = batch.messages[0]!;
  const retry = msg.retry.bind(msg);
  msg.retry = (o) => {
    delays.push(o?.delaySeconds);
    retry(o);
  };
  await handleAlertBatch(batch, env);
  return { ...(await getQueueResult(batch, createExecutionContext())), delays };
}

/** Answers `statuses` in turn to requests for TARGET; records what was sent. */
function target(statuses: (number | "hang" | Error)[], headers: Record<string, string> = {}) {
  const seen: Request[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (!req.url.startsWith(TARGET)) return real(input as RequestInfo, init);
    seen.push(req.clone());
    const s = statuses[Math.min(seen.length - 1, statuses.length - 1)]!;
    if (s instanceof Error) throw s;
    if (s === "hang")
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)),
      );
    return new Response("target says hi", { status: s, headers });
  });
  return seen;
}

const deliveries = (p: TestProject, ruleId: string) =>
  api<{
    deliveries: {
      id: string;
      status: string;
      attempts: number;
      lastStatusCode: number | null;
      lastError: string | null;
      attemptsLog: { attempt: number; status: number | null }[];
    }[];
  }>(`/api/v1/projects/${p.id}/alert-rules/${ruleId}/deliveries`);

describe("alert delivery", () => {
  it("posts the signed payload once and logs it delivered", async () => {
    const p = await createTestProject("deliver-ok");
    const r = await rule(p);
    const seen = target([200]);
    const a = alert(p, r.id);
    const res = await run(a, 1);
    expect(res.explicitAcks).toHaveLength(1);
    expect(seen).toHaveLength(1);
    const body = await seen[0]!.text();
    expect(await verifySignature(r.secret, body, seen[0]!.headers.get("x-sluice-signature"))).toBe(true);
    expect(seen[0]!.headers.get("x-sluice-delivery")).toBe(a.deliveryId);
    expect(JSON.parse(body)).toMatchObject({
      trigger: "new_issue",
      rule: { id: r.id, name: "ops" },
      project: { id: p.id, name: "deliver-ok" },
      group: { id: a.group!.id, url: `http://sluice.test/ui/projects/${p.id}/groups/${a.group!.id}` },
      event: { release: "1.0.0", environment: "prod" },
    });
    const log = await deliveries(p, r.id);
    expect(log.body.deliveries).toMatchObject([
      { id: a.deliveryId, status: "delivered", attempts: 1, lastStatusCode: 200 },
    ]);
    // The target's body is never stored.
    expect(JSON.stringify(log.body)).not.toContain("target says hi");
  });

  it("500, 500, then 200: delivered on the third attempt, with all three in the log", async () => {
    const p = await createTestProject("deliver-retry");
    const r = await rule(p);
    const seen = target([500, 500, 200]);
    const a = alert(p, r.id);
    const first = await run(a, 1);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.delays).toEqual([1]);
    expect((await run(a, 2)).retryMessages).toHaveLength(1);
    expect((await run(a, 3)).explicitAcks).toHaveLength(1);
    expect(seen).toHaveLength(3);
    const [d] = (await deliveries(p, r.id)).body.deliveries;
    expect(d).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200 });
    expect(d!.attemptsLog.map((x) => [x.attempt, x.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
  });

  it("honours a longer Retry-After on 429", async () => {
    const p = await createTestProject("deliver-429");
    const r = await rule(p);
    target([429], { "retry-after": "42" });
    const res = await run(alert(p, r.id), 1);
    expect(res.retryMessages).toHaveLength(1);
    expect(res.delays).toEqual([42]);
  });

  it("a target that never answers ends in a dead letter after the retry budget", async () => {
    const p = await createTestProject("deliver-dead");
    const r = await rule(p);
    const seen = target(["hang"]);
    const a = alert(p, r.id);
    // ALERT_RETRY_DELAYS="1,1" and ALERT_TIMEOUT_MS=2000 in test/wrangler.test.toml: 3 attempts.
    expect((await run(a, 1)).retryMessages).toHaveLength(1);
    expect((await run(a, 2)).retryMessages).toHaveLength(1);
    const last = await run(a, 3);
    expect(last.explicitAcks).toHaveLength(1);
    expect(last.retryMessages).toHaveLength(0);
    expect(seen).toHaveLength(3);
    const [d] = (await deliveries(p, r.id)).body.deliveries;
    expect(d).toMatchObject({ status: "dead_letter", attempts: 3, lastError: "no answer within 2000 ms" });
    const row = await waitFor(() =>
      env.DB.prepare("SELECT reason, body FROM dead_letters WHERE queue = 'sluice-alerts' AND body LIKE ?")
        .bind(`%${a.deliveryId}%`)
        .first<{ reason: string }>(),
    );
    expect(row.reason).toMatch(/after 3 attempts: no answer/);
  });

  it("a 4xx or a redirect fails at once (redirects are not followed)", async () => {
    const p = await createTestProject("deliver-4xx");
    const r = await rule(p);
    const seen = target([302, 410], { location: "http://169.254.169.254/" });
    expect((await run(alert(p, r.id), 1)).explicitAcks).toHaveLength(1);
    expect((await run(alert(p, r.id), 1)).explicitAcks).toHaveLength(1);
    expect(seen.map((s) => s.url)).toEqual([TARGET, TARGET]);
    const log = (await deliveries(p, r.id)).body.deliveries;
    expect(log.map((d) => [d.status, d.lastStatusCode])).toEqual([
      ["failed", 410],
      ["failed", 302],
    ]);
    expect(log[1]!.lastError).toMatch(/redirects are not followed/);
  });

  it("a private target saved while allowed is refused at delivery, never fetched", async () => {
    const p = await createTestProject("deliver-private");
    const r = await rule(p);
    await env.DB.prepare("UPDATE alert_rules SET target_url = 'http://10.0.0.7/hook' WHERE id = ?")
      .bind(r.id)
      .run();
    const seen = target([200]);
    const fetchSpy = vi.mocked(globalThis.fetch);
    expect((await run(alert(p, r.id), 1)).explicitAcks).toHaveLength(1);
    expect(seen).toHaveLength(0);
    expect(fetchSpy.mock.calls.some(([u]) => String(u).includes("10.0.0.7"))).toBe(false);
    const [d] = (await deliveries(p, r.id)).body.deliveries;
    expect(d).toMatchObject({ status: "refused", lastError: expect.stringMatching(/private/) });
  });

  it("Slack targets get text and blocks, with event text escaped", async () => {
    const p = await createTestProject("deliver-slack");
    const r = await rule(p, { type: "slack", url: TARGET });
    const seen = target([200]);
    await run(alert(p, r.id), 1);
    const msg = JSON.parse(await seen[0]!.text());
    expect(msg.text).toContain("New issue in deliver-slack");
    expect(msg.text).toContain("x is &lt;undefined&gt;");
    expect(msg.blocks[0].text.text).toContain(
      `<http://sluice.test/ui/projects/${p.id}/groups/0123456789abcdef|`,
    );
  });

  it("an undecodable message goes to the dead letters alone", async () => {
    const res = await run({ v: 1, deliveryId: "nope" }, 1);
    expect(res.explicitAcks).toHaveLength(1);
    await waitFor(() =>
      env.DB.prepare(
        "SELECT 1 AS x FROM dead_letters WHERE queue = 'sluice-alerts' AND reason LIKE 'invalid alert message%'",
      ).first(),
    );
  });
});
