// Claim checks (issue #12.10): an item too large for a queue message goes to R2 under a key unique
// to that item, so two items reusing a client's event id keep their own payloads — checked against
// the real local R2 (the queue is captured to read the messages back) and end to end.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../shared/queue-codec";
import type { IngestItem } from "../../shared/queue-message";
import { api, call, createTestProject, waitFor } from "../../test/helpers";
import { CLAIM_CHECK_BYTES, enqueue, requestFinished, requestStarted } from "./enqueue";

function bigItem(projectId: string, eventId: string, marker: string): IngestItem {
  return {
    protocol: "sentry",
    category: "error",
    itemType: "event",
    projectId,
    eventId,
    receivedAt: Date.now(),
    client: { ip: null, userAgent: null, country: null, colo: null },
    payload: JSON.stringify({ message: marker, pad: marker.repeat(CLAIM_CHECK_BYTES / marker.length) }),
    size: 0,
  };
}

describe("claim checks", () => {
  it("two items with the same project and event id each keep their own payload in R2", async () => {
    const sent: string[] = [];
    const queue = {
      send: async (body: string) => void sent.push(body),
      sendBatch: async (batch: { body: string }[]) => void sent.push(...batch.map((m) => m.body)),
    };
    const qenv = { BLOBS: env.BLOBS, QUEUE_SHARDS: "{}", Q_ERRORS_0: queue };
    const eventId = "c1a1c7ec".repeat(4);
    await enqueue(qenv, "errors", [bigItem("9001", eventId, "first")]);
    await enqueue(qenv, "errors", [bigItem("9001", eventId, "second")]);
    const items = sent.flatMap((body) => decodeMessage(body).items);
    expect(items).toHaveLength(2);
    const keys = items.map((i) => i.blobKey!);
    expect(new Set(keys).size).toBe(2);
    const messages = await Promise.all(
      keys.map(
        async (k) => (JSON.parse(await (await env.BLOBS.get(k))!.text()) as { message: string }).message,
      ),
    );
    expect(messages).toEqual(["first", "second"]);
    await env.BLOBS.delete(keys);
  });

  it("two envelopes reusing one event id with >100 KB payloads are both accepted and nothing is dead-lettered", async () => {
    const p = await createTestProject("claim-reuse");
    const eventId = "5eed".repeat(8);
    const envelope = (marker: string) =>
      `{"event_id":"${eventId}"}\n{"type":"event"}\n${JSON.stringify({
        message: marker,
        level: "error",
        extra: { pad: "x".repeat(CLAIM_CHECK_BYTES + 10_000) },
      })}`;
    const url = `/api/${p.id}/envelope/?sentry_key=${p.key}`;
    const [a, b] = await Promise.all([
      call(url, { method: "POST", body: envelope("envelope A") }),
      call(url, { method: "POST", body: envelope("envelope B") }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const detail = await waitFor(async () => {
      const r = await api<{ raw: { message: string }; event: { message: string } }>(
        `/api/v1/projects/${p.id}/events/${eventId}`,
      );
      return r.status === 200 ? r.body : null;
    });
    // The stored event is one envelope, whole: its raw payload and its event agree.
    expect(["envelope A", "envelope B"]).toContain(detail.raw.message);
    expect(detail.event.message).toBe(detail.raw.message);
    // Both messages were processed (the duplicate is idempotent), so every claim blob is gone.
    await waitFor(async () => (await env.BLOBS.list({ prefix: `claims/${p.id}/` })).objects.length === 0);
    const dead = await env.DB.prepare("SELECT count(*) n FROM dead_letters WHERE body LIKE ?")
      .bind(`%${eventId}%`)
      .first<{ n: number }>();
    expect(dead!.n).toBe(0);
  });
});

describe("group commit", () => {
  it("a follower whose leader's send outlasts the wait re-sends the group's message with the same id", async () => {
    const sent: string[] = [];
    let calls = 0;
    const send = async (body: string) => {
      sent.push(body);
      // The leader's send hangs past the followers' 5 s wait, then lands after all.
      if (calls++ === 0) await new Promise((r) => setTimeout(r, 5500));
    };
    const queue = {
      send,
      sendBatch: async (batch: { body: string }[]) => void sent.push(...batch.map((m) => m.body)),
    };
    const qenv = { BLOBS: env.BLOBS, QUEUE_SHARDS: "{}", Q_ERRORS_0: queue };
    const item = (eventId: string): IngestItem => ({
      ...bigItem("9002", eventId, "x"),
      payload: JSON.stringify({ message: "small" }),
    });
    // Two ingestion requests in flight: the first leads the group, the second follows it.
    requestStarted();
    requestStarted();
    try {
      await Promise.all([
        enqueue(qenv, "errors", [item("a".repeat(32))]),
        enqueue(qenv, "errors", [item("b".repeat(32))]),
      ]);
    } finally {
      requestFinished();
      requestFinished();
    }
    expect(sent.length).toBeGreaterThanOrEqual(2);
    const batches = sent.map((body) => decodeMessage(body));
    // Every copy is the group's one message: the processor's ledger drops the second by its id.
    expect(new Set(batches.map((b) => b.id)).size).toBe(1);
    for (const b of batches)
      expect(b.items.map((i) => i.eventId).sort()).toEqual(["a".repeat(32), "b".repeat(32)]);
  }, 15_000);
});
