// A failing quota counter (an overloaded, resetting or unreachable Durable Object) at the edge, in
// workerd: the SDK still gets its 202 / 200 and every item is enqueued, never a 503 (Sentry SDKs
// drop an event on a 503, and nothing would record it: a silent loss).
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeMessage } from "../../shared/queue-codec";
import { api, createTestProject, type TestProject } from "../../test/helpers";
import { app } from "./app";
import { resetLocalQuota } from "./quota";

/** A QUOTA namespace whose every object fails, counting how often it was asked. */
const asked = { consume: 0 };
const QUOTA = {
  idFromName: (name: string) => env.QUOTA.idFromName(name),
  get: () => ({
    consume: async () => {
      asked.consume++;
      throw new Error("Durable Object is overloaded. Too many requests queued.");
    },
  }),
};

/** Queue messages sent, as the queues would receive them. */
const sent: { queue: string; body: string }[] = [];
const queue = (name: string) => ({
  send: async (body: string) => void sent.push({ queue: name, body }),
  sendBatch: async (batch: { body: string }[]) =>
    void sent.push(...batch.map((m) => ({ queue: name, body: m.body }))),
});
const bindings = {
  ...env,
  QUEUE_SHARDS: '{"errors":1,"rum":1,"telemetry":1}',
  QUOTA,
  Q_ERRORS_0: queue("errors"),
  Q_RUM_0: queue("rum"),
  Q_TELEMETRY_0: queue("telemetry"),
};
const waits: Promise<unknown>[] = [];
const ctx = {
  waitUntil: (p: Promise<unknown>) => void waits.push(p),
  passThroughOnException() {},
  props: {},
} as unknown as ExecutionContext;

const edge = (path: string, init: RequestInit) =>
  app.fetch(new Request(`http://sluice.test${path}`, init), bindings, ctx);

/** What reached the queues: items by category, and outcomes. */
async function delivered() {
  await Promise.all(waits.splice(0));
  const batches = sent.map((m) => decodeMessage(m.body));
  return {
    items: batches.flatMap((b) => b.items.map((i) => i.category)).sort(),
    outcomes: batches.flatMap((b) => b.outcomes ?? []),
  };
}

let project: TestProject;
beforeAll(async () => {
  project = await createTestProject("quota-down");
  // Every quota the edge asks a counter for: events, sessions, attachment bytes (and spike protection).
  const r = await api(`/api/v1/projects/${project.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify({
      rateLimitPerMinute: 1000,
      spikeProtection: true,
      sessionsPerMinute: 1000,
      attachmentBytesPerMinute: 1_000_000,
    }),
  });
  expect(r.status).toBe(200);
});

afterEach(() => {
  sent.length = 0;
  asked.consume = 0;
  resetLocalQuota();
  vi.restoreAllMocks();
});

describe("a failing quota counter at the edge", () => {
  it("POST /entries answers 202 and enqueues the report, with a warning and no outcome", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await edge("/entries", {
      method: "POST",
      headers: { "x-apikey": project.key },
      body: JSON.stringify({ occurredOn: new Date().toISOString(), details: { error: { message: "boom" } } }),
    });
    expect(res.status).toBe(202);
    expect(asked.consume).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    const { items, outcomes } = await delivered();
    expect(items).toEqual(["error"]);
    expect(outcomes).toEqual([]);
  });

  it("a Sentry envelope (event, session, attachment) answers 200 and every item is enqueued", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const body = [
      JSON.stringify({ event_id: crypto.randomUUID().replace(/-/g, "") }),
      JSON.stringify({ type: "event" }),
      JSON.stringify({ message: "counter down", level: "error" }),
      JSON.stringify({ type: "session" }),
      JSON.stringify({
        sid: crypto.randomUUID(),
        status: "ok",
        started: new Date().toISOString(),
        attrs: { release: "1.0.0" },
      }),
      JSON.stringify({ type: "attachment", filename: "log.txt", length: 5 }),
      "hello",
      "",
    ].join("\n");
    const res = await edge(`/api/${project.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sentry-rate-limits")).toBeNull();
    expect(await res.json()).toHaveProperty("id");
    // Events, sessions and attachment bytes each asked their own counter.
    expect(asked.consume).toBe(3);
    const { items, outcomes } = await delivered();
    expect(items).toEqual(["attachment", "error", "session"]);
    expect(outcomes).toEqual([]);
  });
});
