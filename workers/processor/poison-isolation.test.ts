// Poison isolation, inside workerd against real local Queues, D1 and R2: whatever one item does
// (throws while being processed, runs past its budget, or keeps failing until its message's last
// attempt), that item alone reaches the dead letters with its reason, and every other item of its
// message and batch, other projects' included, is stored and counted.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestItem } from "../../shared/queue-message";
import { api, createTestProject, type TestProject, waitFor } from "../../test/helpers";
import { PREPARERS } from "./prepare";
import { batchBody, deadLetterRows, deliver, raygunItem, storedEventIds } from "./test-helpers";

let a: TestProject;
let b: TestProject;
let c: TestProject;
beforeAll(async () => {
  [a, b, c] = await Promise.all([
    createTestProject("iso-a"),
    createTestProject("iso-b"),
    createTestProject("iso-c"),
  ]);
  // Stand-ins for items that hit a bug (an unexpected exception) or a slow path while being
  // processed: SDK input never does today, which is exactly why the processor must not trust it.
  PREPARERS["raygun:boom"] = async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'frames')");
  };
  PREPARERS["raygun:spin"] = async (item, text) => {
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* burn CPU synchronously, like a pathological payload would */
    }
    return { item, payload: text };
  };
});
afterAll(() => {
  delete PREPARERS["raygun:boom"];
  delete PREPARERS["raygun:spin"];
});

async function accepted(p: TestProject): Promise<number> {
  const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
    `/api/v1/projects/${p.id}/stats`,
  );
  return stats.body.totals.find((t) => t.outcome === "accepted")?.quantity ?? 0;
}

const ids = (items: IngestItem[]) => items.map((i) => i.eventId).sort();

describe("poison isolation", () => {
  it("one throwing item and one over-budget item go to the dead letters alone; every other project's item is stored and counted", async () => {
    const throwing = raygunItem(b, { itemType: "boom" });
    const slow = raygunItem(b, { itemType: "spin" });
    const goodA = [raygunItem(a), raygunItem(a)];
    const goodB = raygunItem(b);
    const goodC = [raygunItem(c), raygunItem(c), raygunItem(c)];
    const { result } = await deliver(
      [
        batchBody([goodA[0]!, throwing, goodC[0]!]),
        batchBody([goodC[1]!, slow, goodA[1]!, goodB]),
        batchBody([goodC[2]!]),
      ],
      { environment: { ...env, ITEM_BUDGET_MS: "50" } },
    );
    expect(result.retryMessages).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(3);

    expect(await storedEventIds(a)).toEqual(ids(goodA));
    expect(await storedEventIds(b)).toEqual([goodB.eventId]);
    expect(await storedEventIds(c)).toEqual(ids(goodC));
    expect(await accepted(a)).toBe(2);
    expect(await accepted(b)).toBe(1);
    expect(await accepted(c)).toBe(3);

    const letters = await waitFor(async () => {
      const rows = await deadLetterRows(b.id);
      return rows.length >= 2 ? rows : null;
    });
    expect(letters).toHaveLength(2);
    const byEvent = new Map(
      letters.map((l) => {
        const items = (JSON.parse(l.body) as { body: { items: IngestItem[] } }).body.items;
        expect(items).toHaveLength(1); // the item alone, never its message
        return [items[0]!.eventId, l.reason];
      }),
    );
    expect(byEvent.get(throwing.eventId)).toMatch(
      /raygun:boom item could not be processed: TypeError: Cannot read/,
    );
    expect(byEvent.get(slow.eventId)).toMatch(/exceeded its processing budget \(\d+ ms > 50 ms\)/);
    expect(await deadLetterRows(a.id)).toHaveLength(0);
    expect(await deadLetterRows(c.id)).toHaveLength(0);
  });

  it("an item that fails transiently keeps its message retrying (the batch's other messages are stored); on the last attempt it alone is dead-lettered and the rest of its message is stored", async () => {
    const missing = raygunItem(a, {
      payload: undefined,
      blobKey: `claims/${a.id}/never-written`,
      size: 200_000,
    });
    const others = [raygunItem(a), raygunItem(c)];
    const body = batchBody([missing, ...others]);
    const bystander = raygunItem(b);
    const first = await deliver([body, batchBody([bystander])], { attempts: 1 });
    expect(first.result.retryMessages).toHaveLength(1);
    expect(first.result.explicitAcks).toHaveLength(1);
    // Another message of the same batch is stored at once.
    expect(await storedEventIds(b)).toEqual(expect.arrayContaining([bystander.eventId]));
    // A message is applied (stored, counted, its ledger row written) once, when all of its items
    // are stored or dead-lettered, so its other items wait for its retry instead of being counted
    // twice or losing their claim check.
    expect(await storedEventIds(c)).not.toContain(others[1]!.eventId);

    const last = await deliver([body], { attempts: Number(env.MAX_RETRIES) });
    expect(last.result.retryMessages).toHaveLength(0);
    expect(last.result.explicitAcks).toHaveLength(1);
    const letter = await waitFor(async () =>
      (await deadLetterRows(a.id)).find((l) => l.body.includes(missing.eventId)),
    );
    expect(letter.reason).toMatch(/failed on every attempt: .*never-written not found/);
    const items = (JSON.parse(letter.body) as { body: { items: IngestItem[] } }).body.items;
    expect(items.map((i) => i.eventId)).toEqual([missing.eventId]);
    expect(await storedEventIds(a)).toEqual(expect.arrayContaining([others[0]!.eventId]));
    expect(await storedEventIds(a)).not.toContain(missing.eventId);
    // Redelivery stored nothing twice.
    expect((await storedEventIds(c)).filter((id) => id === others[1]!.eventId)).toHaveLength(1);
  });
});
