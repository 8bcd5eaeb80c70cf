// Envelope and item headers are the client's own JSON and ride on queued items: whatever a key
// holder writes into them (size, non-ASCII, nesting, a malformed dsn) must cost this request a 4xx
// or be bounded, never fail another project's request sharing its group-committed queue send.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../../shared/queue-codec";
import { call, createTestProject, type TestProject } from "../../../test/helpers";
import { app } from "../app";
import { MAX_ENVELOPE_META_BYTES } from "./envelope-items";

/** Cloudflare Queues refuse a message over 128 KB: the whole send (every message in it) fails. */
const QUEUE_MESSAGE_LIMIT = 128 * 1024;
const encoder = new TextEncoder();

interface Sent {
  queue: string;
  body: string;
}

function strictQueue(name: string, sent: Sent[]) {
  const check = (body: string) => {
    const bytes = encoder.encode(body).byteLength;
    if (bytes > QUEUE_MESSAGE_LIMIT) throw new Error(`message of ${bytes} bytes over the queue limit`);
  };
  return {
    send: async (body: string) => {
      check(body);
      sent.push({ queue: name, body });
    },
    sendBatch: async (batch: { body: string }[]) => {
      for (const m of batch) check(m.body);
      for (const m of batch) sent.push({ queue: name, body: m.body });
    },
  };
}

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

function edge(sent: Sent[]) {
  const bindings = {
    ...env,
    QUEUE_SHARDS: '{"errors":1,"rum":1,"telemetry":1}',
    Q_ERRORS_0: strictQueue("errors", sent),
    Q_TELEMETRY_0: strictQueue("telemetry", sent),
  };
  return (path: string, body: string, headers: Record<string, string> = {}) =>
    app.fetch(new Request(`http://sluice.test${path}`, { method: "POST", body, headers }), bindings, ctx);
}

let a: TestProject;
let b: TestProject;
beforeAll(async () => {
  a = await createTestProject("headers-a");
  b = await createTestProject("headers-b");
});

const event = (message: string) => JSON.stringify({ message, level: "error" });
const SENT_AT = "2026-11-30T10:00:00.000Z";

describe("envelope and item headers at the edge", () => {
  it("a 140 KB envelope header is carried as its read fields, and another project's concurrent event is not failed with it", async () => {
    const sent: Sent[] = [];
    const post = edge(sent);
    const huge = JSON.stringify({ sent_at: SENT_AT, x: "A".repeat(140_000) });
    const [hostile, innocent] = await Promise.all([
      post(
        `/api/${a.id}/envelope/?sentry_key=${a.key}`,
        `${huge}\n{"type":"event"}\n${event("big header")}\n`,
      ),
      post(`/api/${b.id}/envelope/?sentry_key=${b.key}`, `{}\n{"type":"event"}\n${event("innocent")}\n`),
    ]);
    expect(innocent.status).toBe(200);
    expect(hostile.status).toBe(200);
    const items = sent.flatMap((m) => decodeMessage(m.body).items);
    const big = items.find((i) => i.projectId === String(a.id));
    expect(big?.meta?.envelope).toEqual({ truncated: true, sent_at: SENT_AT });
    expect(items.some((i) => i.projectId === String(b.id))).toBe(true);
  });

  it("measures headers in UTF-8 bytes: 45,000 × '中' (135 KB, 45,000 characters) is not carried whole", async () => {
    const sent: Sent[] = [];
    const res = await edge(sent)(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `${JSON.stringify({ sent_at: SENT_AT, x: "中".repeat(45_000) })}\n{"type":"event"}\n${event("cjk")}\n`,
    );
    expect(res.status).toBe(200);
    const [item] = decodeMessage(sent[0]!.body).items;
    expect(item?.meta?.envelope).toEqual({ truncated: true, sent_at: SENT_AT });
    // A header under the limit travels whole.
    const small = { sent_at: SENT_AT, sdk: { name: "sentry.javascript.node", version: "11.12.0" } };
    expect(encoder.encode(JSON.stringify(small)).byteLength).toBeLessThan(MAX_ENVELOPE_META_BYTES);
    sent.length = 0;
    await edge(sent)(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `${JSON.stringify(small)}\n{"type":"event"}\n${event("small")}\n`,
    );
    expect(decodeMessage(sent[0]!.body).items[0]?.meta?.envelope).toEqual(small);
  });

  it("does not copy the envelope header into each of 1,000 items (95 KB header: 109 KB in, not 95 MB out)", async () => {
    const sent: Sent[] = [];
    const header = JSON.stringify({ x: "A".repeat(95_000) });
    const body = `${header}\n${'{"type":"x"}\n\n'.repeat(1000)}`;
    const res = await edge(sent)(`/api/${a.id}/envelope/?sentry_key=${a.key}`, body);
    expect(res.status).toBe(200);
    const queued = sent.reduce((n, m) => n + encoder.encode(m.body).byteLength, 0);
    expect(sent.flatMap((m) => decodeMessage(m.body).items)).toHaveLength(1000);
    expect(queued).toBeLessThan(2 * encoder.encode(body).byteLength + 1000 * 1024);
  });

  it("bounds an item header too: a 140 KB one keeps its read fields and its item is queued", async () => {
    const sent: Sent[] = [];
    const itemHeader = JSON.stringify({ type: "event", filename: "f".repeat(300), pad: "p".repeat(140_000) });
    const res = await edge(sent)(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `{}\n${itemHeader}\n${event("big item header")}\n`,
    );
    expect(res.status).toBe(200);
    const [item] = decodeMessage(sent[0]!.body).items;
    expect(item?.meta?.item).toEqual({ truncated: true, type: "event", filename: "f".repeat(256) });
  });

  it("answers 400 for a header nested deeper than 128 levels, and queues nothing", async () => {
    const sent: Sent[] = [];
    const post = edge(sent);
    const deep = `{"x":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const envelopeHeader = await post(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `${deep}\n{"type":"event"}\n${event("deep")}\n`,
    );
    expect(envelopeHeader.status).toBe(400);
    expect(await envelopeHeader.json()).toMatchObject({
      causes: ["invalid envelope header: nested more than 128 levels deep"],
    });
    const itemHeader = await post(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `{}\n{"type":"event","x":${"[".repeat(200)}${"]".repeat(200)}}\n${event("deep")}\n`,
    );
    expect(itemHeader.status).toBe(400);
    // Only the two rejections' outcomes (invalid) were queued, no item.
    expect(sent.flatMap((m) => decodeMessage(m.body).items)).toHaveLength(0);
    expect(sent.flatMap((m) => decodeMessage(m.body).outcomes ?? []).map((o) => o.outcome)).toEqual([
      "invalid",
      "invalid",
    ]);
    // 128 levels are still a header.
    const ok = await post(
      `/api/${a.id}/envelope/?sentry_key=${a.key}`,
      `{"x":${"[".repeat(127)}${"]".repeat(127)}}\n{"type":"event"}\n${event("nested ok")}\n`,
    );
    expect(ok.status).toBe(200);
  });
});

describe("tunnel dsn and auth headers", () => {
  it("answers 401, not 503, for a dsn whose key or secret is a malformed escape", async () => {
    for (const dsn of ["http://%zz@sluice.test/1", `http://${"a".repeat(32)}:%E0%A4%A@sluice.test/1`]) {
      const res = await call(`/api/1/envelope/`, {
        method: "POST",
        body: `${JSON.stringify({ dsn })}\n{"type":"event"}\n{}\n`,
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ detail: "bad envelope authentication header" });
    }
  });

  it("reads a tunnel's dsn when the request's auth header is not Sentry's (a proxy's Bearer token)", async () => {
    const dsn = `http://${a.key}@sluice.test/${a.id}`;
    const res = await call(`/api/${a.id}/envelope/`, {
      method: "POST",
      headers: { "x-sentry-auth": "Bearer proxy-token", authorization: "Basic !!!" },
      body: `${JSON.stringify({ dsn })}\n{"type":"event"}\n${event("via tunnel")}\n`,
    });
    expect(res.status).toBe(200);
  });
});
