// The dead-letter path inside workerd against real local Queues, D1 and R2: dead-lettered payloads
// are scrubbed before they are stored (D1 rows, the R2 fallback, claim-check blobs), a message
// holding several projects' items becomes one dead letter per project, and the console lists and
// replays the R2-fallback dead letters like the D1 ones.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { IngestItem } from "../../shared/queue-message";
import { api, createTestProject, waitFor } from "../../test/helpers";
import { deadLetterKey } from "./dead-letters";
import { batchBody, deadLetterRows, deliver, raygunItem, recordOne, storedEventIds } from "./test-helpers";

const SECRET = "hunter2-s3cr3t";

describe("dead letters are scrubbed before they are stored", () => {
  it("a poison item's password never reaches D1, even as text or in its claim-check blob", async () => {
    const p = await createTestProject("dl-scrub");
    const text = raygunItem(p, { payload: `user=ann&password=${SECRET}&n=1` }); // not JSON: poison
    const claimKey = `claims/${p.id}/scrub-${crypto.randomUUID()}`;
    await env.BLOBS.put(
      claimKey,
      JSON.stringify([{ password: SECRET, note: "an array is no Sentry event" }]),
    );
    const claimed: IngestItem = {
      ...raygunItem(p),
      protocol: "sentry",
      itemType: "event",
      payload: undefined,
      blobKey: claimKey,
    };
    const { result } = await deliver([batchBody([text, claimed])]);
    expect(result.explicitAcks).toHaveLength(1);
    const rows = await waitFor(async () => {
      const r = await deadLetterRows(p.id);
      return r.length >= 2 ? r : null;
    });
    expect(rows.map((r) => r.reason).sort()).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/must be a JSON object/),
    ]);
    for (const r of rows) {
      expect(r.body).not.toContain(SECRET);
      expect(r.project_id).toBe(Number(p.id));
    }
    expect(rows.map((r) => r.body).join("\n")).toContain("password=[Filtered]");
    const blob = await (await env.BLOBS.get(claimKey))!.text();
    expect(blob).not.toContain(SECRET);
    expect(JSON.parse(blob)).toEqual([{ password: "[Filtered]", note: "an array is no Sentry event" }]);
  });

  it("a message the queue gave up on is split per project and scrubbed, in D1 and in the R2 fallback", async () => {
    const [a, b] = await Promise.all([createTestProject("dl-split-a"), createTestProject("dl-split-b")]);
    const withSecret = (p: typeof a) =>
      raygunItem(p, { payload: JSON.stringify({ details: { request: { form: { password: SECRET } } } }) });
    const items = [withSecret(a), withSecret(b), raygunItem(a)];
    const raw = JSON.stringify({
      v: 1,
      id: "msg-1",
      items,
      outcomes: [
        { projectId: b.id, category: "error", outcome: "filtered", reason: "x", quantity: 1, at: 0 },
      ],
    });
    const id = await recordOne(raw);
    const [rowsA, rowsB] = [await deadLetterRows(a.id), await deadLetterRows(b.id)];
    expect(rowsA.map((r) => r.id)).toEqual([`${id}:${a.id}`]);
    expect(rowsB.map((r) => r.id)).toEqual([`${id}:${b.id}`]);
    const bodyA = JSON.parse(rowsA[0]!.body).body;
    const bodyB = JSON.parse(rowsB[0]!.body).body;
    expect(bodyA.items.map((i: IngestItem) => i.eventId)).toEqual([items[0]!.eventId, items[2]!.eventId]);
    expect(bodyA.outcomes).toBeUndefined();
    expect(bodyB.outcomes).toHaveLength(1);
    expect(bodyB.id).toBe(`msg-1:${b.id}`);
    for (const r of [...rowsA, ...rowsB]) expect(r.body).not.toContain(SECRET);

    const fallbackId = await recordOne(raw, true);
    const obj = await env.BLOBS.get(deadLetterKey(`${fallbackId}:${a.id}`));
    expect(obj).not.toBeNull();
    const stored = await obj!.text();
    expect(stored).not.toContain(SECRET);
    expect(stored).toContain("[Filtered]");
    expect(obj!.customMetadata?.projectId).toBe(a.id);
  });
});

describe("R2-fallback dead letters in the console", () => {
  it("are listed beside the D1 ones and replay like them", async () => {
    const p = await createTestProject("dl-fallback");
    const item = raygunItem(p);
    const id = await recordOne(
      JSON.stringify({
        v: 1,
        deadLetter: { queue: "sluice-errors-0", reason: "test: D1 down" },
        body: JSON.parse(batchBody([item])),
      }),
      true,
    );
    const listed = await api<{
      deadLetters: {
        id: string;
        storage: string;
        projectId: number | null;
        reason: string;
        replayedAt: string | null;
      }[];
    }>("/api/v1/dead-letters?pending=true&limit=500");
    expect(listed.status).toBe(200);
    expect(listed.body.deadLetters.find((d) => d.id === id)).toMatchObject({
      storage: "r2",
      projectId: Number(p.id),
      reason: "test: D1 down",
      replayedAt: null,
    });

    const replay = await api<{ replayed: number }>("/api/v1/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify({ ids: [id] }),
    });
    expect(replay.status).toBe(200);
    expect(replay.body.replayed).toBe(1);
    expect(await env.BLOBS.head(deadLetterKey(id))).toBeNull();
    await waitFor(async () => (await storedEventIds(p)).includes(item.eventId));
    const after = await api<{ deadLetters: { id: string; storage: string; replayedAt: string | null }[] }>(
      "/api/v1/dead-letters?limit=500",
    );
    const moved = after.body.deadLetters.find((d) => d.id === id);
    expect(moved?.storage).toBe("d1");
    expect(moved?.replayedAt).not.toBeNull();
  });
});
