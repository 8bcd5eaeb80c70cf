// Replaying R2-fallback dead letters through the console: the fallback holds bodies D1 refused
// (e.g. over D1's 2 MB limit on a string), so a replay records itself in D1 without the body and
// takes the object out of R2, and answers 200 whatever happens to one dead letter.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deadLetterKey, type FallbackRecord } from "../../shared/storage/dead-letter-store";
import { api, createTestProject, waitFor } from "../../test/helpers";
import { batchBody, raygunItem, storedEventIds } from "../processor/test-helpers";

/** Writes an R2-fallback dead letter the way the processor's DLQ consumer does. */
async function putFallback(r: FallbackRecord): Promise<void> {
  await env.BLOBS.put(deadLetterKey(r.id), JSON.stringify(r), {
    customMetadata: {
      id: r.id,
      queue: r.queue,
      reason: r.reason,
      attempts: String(r.attempts),
      createdAt: String(r.createdAt),
      projectId: r.projectId === null ? "" : String(r.projectId),
    },
  });
}

describe("replaying an R2-fallback dead letter D1 refused", () => {
  it("records the replay in D1 without the body, removes the R2 object, and never answers 500", async () => {
    const p = await createTestProject("dl-huge");
    const id = `dl-huge-${crypto.randomUUID()}`;
    const item = raygunItem(p, {}, "x".repeat(2_200_000));
    const big = batchBody([item]);
    const body = JSON.stringify({
      v: 1,
      deadLetter: { queue: "sluice-errors-0", reason: "D1 refused" },
      body: JSON.parse(big),
    });
    expect(body.length).toBeGreaterThan(2_000_000);
    await putFallback({
      id,
      queue: "sluice-errors-0",
      reason: "D1 refused",
      body,
      attempts: 4,
      createdAt: Date.now(),
      projectId: Number(p.id),
    });
    const replay = await api<{ replayed: number; skipped: { id: string; reason: string }[] }>(
      "/api/v1/dead-letters/replay",
      { method: "POST", body: JSON.stringify({ ids: [id] }) },
    );
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ replayed: 1, skipped: [] });
    expect(await env.BLOBS.head(deadLetterKey(id))).toBeNull();
    const row = await env.DB.prepare("SELECT body, replayed_at FROM dead_letters WHERE id = ?")
      .bind(id)
      .first<{ body: string; replayed_at: number | null }>();
    expect(row?.replayed_at).toBeGreaterThan(0);
    expect(row!.body.length).toBeLessThan(1000);
    expect(JSON.parse(row!.body)).toMatchObject({ replayedFromR2: deadLetterKey(id) });
    // The item reached the pipeline again (its payload through a claim check) and was stored.
    await waitFor(async () => (await storedEventIds(p)).includes(item.eventId), 30_000);
    // Nothing left to replay.
    const again = await api<{ replayed: number }>("/api/v1/dead-letters/replay", {
      method: "POST",
      body: JSON.stringify({ ids: [id] }),
    });
    expect(again).toEqual({ status: 200, body: { replayed: 0, skipped: [] } });
  });
});
