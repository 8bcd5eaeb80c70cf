// Alerts end to end through `npm start`'s stack (its own, started with a short retry backoff):
// the real @sentry/node SDK raises errors, the processor decides alerts, the alerter delivers them
// to a local HTTP receiver; and a stack with ALLOW_PRIVATE_ALERT_TARGETS=false refuses the
// receiver as a target.
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../shared/alerts/signature";
import { poll } from "../poll";
import { type Receiver, startReceiver } from "./alert-receiver";
import { type RunningStack, startStack } from "./stack";

let stack: RunningStack;
let receiver: Receiver;

async function adminApi<T = unknown>(s: RunningStack, path: string, init: RequestInit = {}) {
  const res = await fetch(`${s.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${s.adminToken}`, "content-type": "application/json" },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function project(name: string) {
  const r = await adminApi<{ id: string; key: string; dsn: string }>(stack, "/api/v1/projects", {
    method: "POST",
    body: JSON.stringify({ name }),
  });
  expect(r.status).toBe(201);
  return r.body;
}

async function rule(projectId: string, path: string, body: Record<string, unknown>) {
  const r = await adminApi<{ id: string; secret: string }>(
    stack,
    `/api/v1/projects/${projectId}/alert-rules`,
    {
      method: "POST",
      body: JSON.stringify({
        name: path,
        target: { type: "webhook", url: `${receiver.url}${path}` },
        ...body,
      }),
    },
  );
  expect(r.status).toBe(201);
  return r.body;
}

type Delivery = {
  status: string;
  attempts: number;
  trigger: string;
  attemptsLog: { status: number | null }[];
};
const deliveries = (projectId: string, ruleId: string) =>
  adminApi<{ deliveries: Delivery[] }>(
    stack,
    `/api/v1/projects/${projectId}/alert-rules/${ruleId}/deliveries`,
  ).then((r) => r.body.deliveries);

/** A Sentry legacy-store event straight over HTTP (for bursts; the SDK path is tested above it). */
async function storeEvent(p: { id: string; key: string }, type: string) {
  const r = await fetch(`${stack.url}/api/${p.id}/store/?sentry_key=${p.key}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      platform: "node",
      exception: {
        values: [
          {
            type,
            value: "burst",
            stacktrace: { frames: [{ function: "burst", filename: "app.js", lineno: 1 }] },
          },
        ],
      },
    }),
  });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  receiver = await startReceiver();
  stack = await startStack({ ALERT_RETRY_DELAYS: "1,1", ALERT_TIMEOUT_MS: "1500" });
});

afterAll(async () => {
  await Sentry.close(2000);
  await stack?.stop();
  await receiver?.close();
});

function chargeCard(): never {
  throw new TypeError("card declined by issuer");
}

describe("alerts through npm start's stack", () => {
  it("new_issue for a real @sentry/node error, signed; resolving and sending again gives regression", async () => {
    const p = await project("alerts-sdk");
    const r = await rule(p.id, "/sdk", { triggers: ["new_issue", "regression"] });
    Sentry.init({ dsn: p.dsn, release: "shop@1.0.0", environment: "e2e" });
    try {
      chargeCard();
    } catch (err) {
      Sentry.captureException(err);
    }
    await Sentry.flush(2000);
    const first = await poll(async () => receiver.at("/sdk")[0], 30_000, 100, "new_issue webhook");
    expect(await verifySignature(r.secret, first.body, String(first.headers["x-sluice-signature"]))).toBe(
      true,
    );
    expect(first.headers["x-sluice-delivery"]).toMatch(/^[0-9a-f]{32}$/);
    const payload = JSON.parse(first.body);
    expect(payload).toMatchObject({
      trigger: "new_issue",
      rule: { id: r.id },
      project: { id: p.id, name: "alerts-sdk" },
      group: { type: "TypeError", message: "card declined by issuer", status: "active", count: 1 },
      event: { release: "shop@1.0.0", environment: "e2e" },
    });
    expect(payload.group.url).toBe(`${stack.url}/ui/projects/${p.id}/groups/${payload.group.id}`);

    const resolved = await adminApi(stack, `/api/v1/projects/${p.id}/groups/${payload.group.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "resolved" }),
    });
    expect(resolved.status).toBe(200);
    try {
      chargeCard();
    } catch (err) {
      Sentry.captureException(err);
    }
    await Sentry.flush(2000);
    const second = await poll(async () => receiver.at("/sdk")[1], 30_000, 100, "regression webhook");
    expect(JSON.parse(second.body)).toMatchObject({
      trigger: "regression",
      group: { id: payload.group.id, status: "active", count: 2 },
    });
    expect(await verifySignature(r.secret, second.body, String(second.headers["x-sluice-signature"]))).toBe(
      true,
    );
    const g = await adminApi<{ status: string; regressedAt: string | null }>(
      stack,
      `/api/v1/projects/${p.id}/groups/${payload.group.id}`,
    );
    expect(g.body.status).toBe("active");
    expect(g.body.regressedAt).not.toBeNull();
    expect(receiver.at("/sdk")).toHaveLength(2);
  });

  it("a burst gives one spike, not one per event", async () => {
    const p = await project("alerts-burst");
    const r = await rule(p.id, "/spike", { triggers: ["spike"] });
    for (let i = 0; i < 25; i++) await storeEvent(p, "BurstError");
    await poll(async () => receiver.at("/spike")[0], 30_000, 100, "spike webhook");
    // Every event stored, and still one alert once the queue has drained.
    await poll(
      async () =>
        (await adminApi<{ groups: { count: number }[] }>(stack, `/api/v1/projects/${p.id}/groups`)).body
          .groups[0]?.count === 25,
      30_000,
      200,
      "25 events counted",
    );
    await new Promise((res) => setTimeout(res, 2000));
    expect(receiver.at("/spike").map((x) => JSON.parse(x.body).trigger)).toEqual(["spike"]);
    expect((await deliveries(p.id, r.id)).map((d) => d.status)).toEqual(["delivered"]);
  });

  it("a receiver answering 500 twice then 200 gets the alert on attempt 3, and the log shows all three", async () => {
    const p = await project("alerts-flaky");
    receiver.script("/flaky", [500, 500, 200]);
    const r = await rule(p.id, "/flaky", { triggers: ["new_issue"] });
    await storeEvent(p, "FlakyError");
    const [d] = await poll(
      async () => {
        const list = await deliveries(p.id, r.id);
        return list[0]?.status === "delivered" ? list : null;
      },
      30_000,
      200,
      "delivered on attempt 3",
    );
    expect(d).toMatchObject({ trigger: "new_issue", attempts: 3 });
    expect(d!.attemptsLog.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(receiver.at("/flaky")).toHaveLength(3);
    expect(new Set(receiver.at("/flaky").map((x) => x.headers["x-sluice-delivery"])).size).toBe(1);
  });

  it("a receiver that never answers ends in a dead letter within the retry budget", async () => {
    const p = await project("alerts-hang");
    receiver.script("/hang", ["hang"]);
    const r = await rule(p.id, "/hang", { triggers: ["new_issue"] });
    const started = Date.now();
    await storeEvent(p, "HangError");
    const [d] = await poll(
      async () => {
        const list = await deliveries(p.id, r.id);
        return list[0]?.status === "dead_letter" ? list : null;
      },
      40_000,
      200,
      "dead letter",
    );
    // 3 attempts of ≤ 1.5 s with 1 s between them (ALERT_RETRY_DELAYS=1,1).
    expect(d!.attempts).toBe(3);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(receiver.at("/hang")).toHaveLength(3);
    const dl = await poll(
      async () => {
        const list = await adminApi<{ deadLetters: { queue: string; reason: string }[] }>(
          stack,
          "/api/v1/dead-letters",
        );
        return list.body.deadLetters.find((x) => x.queue === "sluice-alerts");
      },
      20_000,
      200,
      "dead letter listed",
    );
    expect(dl.reason).toMatch(/after 3 attempts: no answer within 1500 ms/);
  });
});
