// Storage after admission and per-category quotas (issue #12.6), in workerd against real local
// R2, D1, Queues and QuotaCounter objects: a filtered, rate-limited or invalid envelope leaves no
// attachment in R2; attachments count in bytes against their own quota and sessions against theirs,
// with X-Sentry-Rate-Limits naming the category and an outcome for every dropped item.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseRateLimits } from "../../shared/sentry/rate-limits";
import { api, call, createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";

type Totals = { category: string; outcome: string; reason: string; quantity: number }[];

async function configure(p: TestProject, settings: Record<string, unknown>) {
  const r = await api(`/api/v1/projects/${p.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify(settings),
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const total = (t: Totals) => t.reduce((n, x) => n + x.quantity, 0);
async function totalsWhen(p: TestProject, quantity: number): Promise<Totals> {
  return waitFor(async () => {
    const r = await api<{ totals: Totals }>(`/api/v1/projects/${p.id}/stats`);
    return total(r.body.totals) === quantity ? r.body.totals : null;
  });
}

async function storedAttachments(p: TestProject): Promise<string[]> {
  return (await env.BLOBS.list({ prefix: `attachments/${p.id}/` })).objects.map((o) => o.key);
}

/** An envelope from parts: [item header, payload] pairs; payloads as bytes get explicit lengths. */
function envelope(header: Record<string, unknown>, items: [Record<string, unknown>, string | Uint8Array][]) {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(`${JSON.stringify(header)}\n`)];
  for (const [h, payload] of items) {
    const bytes = typeof payload === "string" ? enc.encode(payload) : payload;
    parts.push(
      enc.encode(`${JSON.stringify({ ...h, length: bytes.byteLength })}\n`),
      bytes,
      enc.encode("\n"),
    );
  }
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

const file = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + 128) % 256);
const attachment = (size: number, name = "dump.bin"): [Record<string, unknown>, Uint8Array] => [
  { type: "attachment", filename: name, content_type: "application/octet-stream" },
  file(size),
];
const event = (message: string): [Record<string, unknown>, string] => [
  { type: "event" },
  JSON.stringify({ message, level: "error" }),
];
const session = (sid: string): [Record<string, unknown>, string] => [
  { type: "session" },
  JSON.stringify({ sid, status: "ok", started: new Date().toISOString(), attrs: { release: "1.0.0" } }),
];

const post = (p: TestProject, body: Uint8Array) =>
  call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, { method: "POST", body });

async function awayFromMinuteEnd() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 200));
}

describe("R2 is written only for admitted items", () => {
  it("a filtered event's attachment is dropped with it (filtered outcome) and never stored", async () => {
    const p = await createTestProject("filtered-attachment");
    await configure(p, { filters: { errorMessages: ["*secret sauce*"] } });
    const res = await post(p, envelope({}, [event("the secret sauce leaked"), attachment(300)]));
    expect(res.status).toBe(200);
    const totals = await totalsWhen(p, 1 + 300);
    expect(totals).toContainEqual({
      category: "attachment",
      outcome: "filtered",
      reason: "error-message",
      quantity: 300,
    });
    expect(await storedAttachments(p)).toEqual([]);
  });

  it("a rate-limited envelope with an attachment gets 429 and leaves no R2 object", async () => {
    const p = await createTestProject("limited-attachment");
    await configure(p, { rateLimitPerMinute: 1, spikeProtection: false });
    await awayFromMinuteEnd();
    expect((await post(p, envelope({}, [event("first")]))).status).toBe(200);
    const res = await post(p, envelope({}, [event("second"), attachment(500)]));
    expect(res.status).toBe(429);
    const totals = await totalsWhen(p, 2 + 500);
    expect(totals).toContainEqual({
      category: "attachment",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 500,
    });
    expect(await storedAttachments(p)).toEqual([]);
  });

  it("an invalid envelope (a bad event after an attachment) is a 400 and leaves no R2 object", async () => {
    const p = await createTestProject("invalid-attachment");
    const res = await post(p, envelope({}, [attachment(400), [{ type: "event" }, "[1,2,3]"]]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/invalid envelope/);
    expect(await storedAttachments(p)).toEqual([]);
  });

  it("an admitted attachment is still stored byte-exact and linked to its event", async () => {
    const p = await createTestProject("admitted-attachment");
    const eventId = "a77ac4ed".repeat(4);
    expect((await post(p, envelope({ event_id: eventId }, [event("kept"), attachment(256)]))).status).toBe(
      200,
    );
    const shard = await metaDbOf(p.id);
    const row = await waitFor(() =>
      shard
        .prepare("SELECT blob_key FROM attachments WHERE project_id = ? AND event_id = ?")
        .bind(Number(p.id), eventId)
        .first<{ blob_key: string }>(),
    );
    const bytes = new Uint8Array(await (await env.BLOBS.get(row.blob_key))!.arrayBuffer());
    expect(Array.from(bytes)).toEqual(Array.from(file(256)));
  });
});

describe("per-category quotas", () => {
  it("attachment-only envelopes count their bytes against attachmentBytesPerMinute; 429 names the attachment category", async () => {
    const p = await createTestProject("attachment-quota");
    await configure(p, { attachmentBytesPerMinute: 1000, spikeProtection: false });
    await awayFromMinuteEnd();
    expect((await post(p, envelope({}, [attachment(600, "a.bin")]))).status).toBe(200);
    const limited = await post(p, envelope({}, [attachment(600, "b.bin")]));
    expect(limited.status).toBe(429);
    const [limit, ...rest] = parseRateLimits(limited.headers.get("x-sentry-rate-limits") ?? "");
    expect(rest).toEqual([]);
    expect(limit).toMatchObject({ categories: ["attachment"], scope: "project", reasonCode: "rate_limit" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Events are not held back by the attachment quota: the event is kept, its file is not.
    const mixed = await post(p, envelope({}, [event("still welcome"), attachment(10, "c.bin")]));
    expect(mixed.status).toBe(200);
    expect(mixed.headers.get("x-sentry-rate-limits")).toMatch(/^\d+:attachment:project:rate_limit$/);
    const totals = await totalsWhen(p, 1 + 600 + 610);
    expect(totals).toContainEqual({
      category: "attachment",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 610,
    });
    // Outcomes count attachments in bytes, as Relay's do.
    expect(totals).toContainEqual({ category: "attachment", outcome: "accepted", reason: "", quantity: 600 });
    expect(totals).toContainEqual({ category: "error", outcome: "accepted", reason: "", quantity: 1 });
    expect((await storedAttachments(p)).length).toBe(1);
  });

  it("session-only envelopes count against sessionsPerMinute; 429 names the session category", async () => {
    const p = await createTestProject("session-quota");
    await configure(p, { sessionsPerMinute: 2 });
    await awayFromMinuteEnd();
    const sid = (i: number) => `${i}`.padStart(32, "5");
    expect((await post(p, envelope({}, [session(sid(1))]))).status).toBe(200);
    expect((await post(p, envelope({}, [session(sid(2))]))).status).toBe(200);
    const limited = await post(p, envelope({}, [session(sid(3))]));
    expect(limited.status).toBe(429);
    expect(parseRateLimits(limited.headers.get("x-sentry-rate-limits") ?? "")).toEqual([
      expect.objectContaining({ categories: ["session"], reasonCode: "rate_limit" }),
    ]);
    const totals = await totalsWhen(p, 3);
    expect(totals).toContainEqual({
      category: "session",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 1,
    });
    expect(totals).toContainEqual({ category: "session", outcome: "accepted", reason: "", quantity: 2 });
  });

  it("check-ins, replays and the other uncounted categories each get rateLimitPerMinute; 429 names their category", async () => {
    const p = await createTestProject("check-in-quota");
    await configure(p, { rateLimitPerMinute: 2, spikeProtection: false });
    await awayFromMinuteEnd();
    const checkIn = (i: number): [Record<string, unknown>, string] => [
      { type: "check_in" },
      JSON.stringify({ check_in_id: `${i}`.padStart(32, "c"), monitor_slug: "nightly", status: "ok" }),
    ];
    expect((await post(p, envelope({}, [checkIn(1)]))).status).toBe(200);
    expect((await post(p, envelope({}, [checkIn(2)]))).status).toBe(200);
    const limited = await post(p, envelope({}, [checkIn(3)]));
    expect(limited.status).toBe(429);
    expect(parseRateLimits(limited.headers.get("x-sentry-rate-limits") ?? "")).toEqual([
      expect.objectContaining({ categories: ["monitor"], scope: "project", reasonCode: "rate_limit" }),
    ]);
    // Each category counts apart: the events' own budget and the replays' are untouched.
    const ok = await post(p, envelope({}, [event("still welcome")]));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-sentry-rate-limits")).toBeNull();
    const replay = (i: number): [Record<string, unknown>, string] => [
      { type: "replay_event" },
      JSON.stringify({ type: "replay_event", replay_id: `${i}`.padStart(32, "e"), segment_id: 0 }),
    ];
    expect((await post(p, envelope({}, [replay(1)]))).status).toBe(200);
    expect((await post(p, envelope({}, [replay(2)]))).status).toBe(200);
    const replayLimited = await post(p, envelope({}, [replay(3)]));
    expect(replayLimited.status).toBe(429);
    expect(parseRateLimits(replayLimited.headers.get("x-sentry-rate-limits") ?? "")).toEqual([
      expect.objectContaining({ categories: ["replay"], reasonCode: "rate_limit" }),
    ]);
    const totals = await waitFor(async () => {
      const r = await api<{ totals: Totals }>(`/api/v1/projects/${p.id}/stats`);
      const limitedOnes = r.body.totals.filter((t) => t.outcome === "rate_limited");
      return limitedOnes.length === 2 ? r.body.totals : null;
    });
    expect(totals).toContainEqual({
      category: "check_in",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 1,
    });
    expect(totals).toContainEqual({
      category: "replay",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 1,
    });
  });

  it("settings validate the new quotas", async () => {
    const p = await createTestProject("quota-settings");
    const bad = await api<{ error: string }>(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ attachmentBytesPerMinute: -5 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/attachmentBytesPerMinute/);
    await configure(p, { attachmentBytesPerMinute: null, sessionsPerMinute: 100 });
  });
});
