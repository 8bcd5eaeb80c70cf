// Replaying a dead letter too large for one queue message, through the console against real local
// D1 and the real processor: the body is re-sent in parts, and each part counts exactly what it
// holds once, whatever happened before. A dead letter whose message was counted before the queue
// gave up on it (but could not be marked `counted`: the ledger was unreadable then) counts nothing
// again, however many times and however concurrently it is replayed; one never counted counts
// each of its items once, its parts applied one after another.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, api, BASE, createTestProject, type TestProject } from "../../../test/helpers";
import { deadLetterStatements, toDeadLetters } from "../../processor/dead-letters";
import { batchBody, deliver, raygunItem } from "../../processor/test-helpers";
import consoleWorker from "../index";

/** The console's environment with an errors queue that records what is sent, slowly. */
function recordingQueue() {
  const sent: string[] = [];
  const Q_ERRORS_0 = {
    async send(body: string) {
      // Slow enough for two replays at once to overlap.
      await new Promise((r) => setTimeout(r, 20));
      sent.push(body);
    },
    async sendBatch() {
      throw new Error("not used");
    },
  };
  return { sent, environment: { ...env, Q_ERRORS_0 } as unknown as ConsoleEnv };
}

async function replay(environment: ConsoleEnv, id: string) {
  const res = await consoleWorker.fetch(
    new Request(`${BASE}/api/v1/dead-letters/replay`, {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ ids: [id] }),
    }),
    environment,
    createExecutionContext(),
  );
  expect(res.status).toBe(200);
  return (await res.json()) as { replayed: number; skipped: { id: string; reason: string }[] };
}

async function counts(p: TestProject): Promise<{ accepted: number; groups: number }> {
  const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
    `/api/v1/projects/${p.id}/stats`,
  );
  const groups = await api<{ groups: { count: number }[] }>(`/api/v1/projects/${p.id}/groups`);
  return {
    accepted: stats.body.totals.find((t) => t.outcome === "accepted")?.quantity ?? 0,
    groups: groups.body.groups.reduce((n, g) => n + g.count, 0),
  };
}

/** A message of four ~43 KB items (two queue messages' worth) and its dead letter, recorded in D1. */
async function splitDeadLetter(p: TestProject, tag: string) {
  const time = Date.now().toString(16).padStart(12, "0");
  const items = Array.from({ length: 4 }, () => raygunItem(p, {}, "x".repeat(40_000)));
  const body = batchBody(items, `${time}${tag}`);
  const dlqId = `dlq-${crypto.randomUUID()}`;
  // Not marked counted: the ledger could not be read when the queue gave up on the message.
  const letters = await toDeadLetters(
    {
      id: dlqId,
      body: JSON.stringify({
        v: 1,
        deadLetter: { queue: "sluice-errors-0", reason: "exhausted" },
        body: JSON.parse(body),
      }),
      attempts: 5,
    },
    env.BLOBS,
    Date.now(),
  );
  expect(letters).toHaveLength(1);
  expect((JSON.parse(letters[0]!.body) as { body: { counted?: true } }).body.counted).toBeUndefined();
  await env.DB.batch(deadLetterStatements(env.DB, letters));
  return { body, dlqId, messageId: `${time}${tag}` };
}

describe("replaying a dead letter split into parts", () => {
  it("counted before it was dead-lettered: replayed twice at once, then again, it counts nothing again", async () => {
    const p = await createTestProject("dl-split-counted");
    const { body, dlqId, messageId } = await splitDeadLetter(p, "splitcounted");
    const before = await counts(p);
    expect((await deliver([body])).result.explicitAcks).toHaveLength(1);
    const applied = await counts(p);
    expect(applied.accepted - before.accepted).toBe(4);

    const { sent, environment } = recordingQueue();
    const both = await Promise.all([replay(environment, dlqId), replay(environment, dlqId)]);
    expect(both.reduce((n, r) => n + r.replayed, 0)).toBe(1);
    expect(await replay(environment, dlqId)).toEqual({ replayed: 0, skipped: [] });
    // Sent once, in two parts, every part with an id of its own below the message's.
    expect(sent).toHaveLength(2);
    const parts = sent.map((m) => JSON.parse(m) as { id: string; items: unknown[] });
    expect(parts.map((m) => m.id)).toEqual([`${messageId}:replay-0`, `${messageId}:replay-1`]);
    expect(parts.map((m) => m.items.length)).toEqual([2, 2]);

    // Applied one part per batch, and each part again (a redelivery): nothing counts again.
    for (const part of [...sent, ...sent])
      expect((await deliver([part])).result.explicitAcks).toHaveLength(1);
    expect(await counts(p)).toEqual(applied);
  });

  it("never counted: its parts, applied one after another and again, count each item once", async () => {
    const p = await createTestProject("dl-split-never");
    const { dlqId } = await splitDeadLetter(p, "splitnever");
    const before = await counts(p);
    const { sent, environment } = recordingQueue();
    expect(await replay(environment, dlqId)).toEqual({ replayed: 1, skipped: [] });
    expect(sent).toHaveLength(2);
    for (const part of [...sent, ...sent])
      expect((await deliver([part])).result.explicitAcks).toHaveLength(1);
    const after = await counts(p);
    expect(after.accepted - before.accepted).toBe(4);
    expect(after.groups - before.groups).toBe(4);
  });

  it("a failed send releases the claim: the dead letter is pending again and a later replay sends it", async () => {
    const p = await createTestProject("dl-split-failed");
    const { dlqId } = await splitDeadLetter(p, "splitfailed");
    const down = {
      ...env,
      Q_ERRORS_0: {
        send: () => Promise.reject(new Error("queue down")),
        sendBatch: () => Promise.reject(new Error("queue down")),
      },
    } as unknown as ConsoleEnv;
    const failed = await replay(down, dlqId);
    expect(failed.replayed).toBe(0);
    expect(failed.skipped).toEqual([{ id: dlqId, reason: expect.stringContaining("queue down") }]);
    const row = await env.DB.prepare("SELECT replayed_at FROM dead_letters WHERE id = ?")
      .bind(dlqId)
      .first<{ replayed_at: number | null }>();
    expect(row?.replayed_at).toBeNull();
    const { sent, environment } = recordingQueue();
    expect(await replay(environment, dlqId)).toEqual({ replayed: 1, skipped: [] });
    expect(sent).toHaveLength(2);
  });
});
