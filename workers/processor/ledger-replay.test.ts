// Dead letters and the message ledger, inside workerd against real local D1, R2 and Queues: a
// poison item is dead-lettered once, by the attempt that applies its message (never by a retrying
// attempt, never again on redelivery); a failing dead-letter send loses no claim check; ledger ids
// made by the processor start with a time in hex; a dead letter's per-project shares, replayed
// after their message was in fact applied, count nothing again.
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardDbs } from "../../shared/db/shards";
import type { IngestItem } from "../../shared/queue-message";
import { api, createTestProject, metaDbOf, shardBindingOf, type TestProject } from "../../test/helpers";
import { type CountedCheck, ledgerCountedCheck, toDeadLetters } from "./dead-letters";
import { ledgerHolds } from "./ledger-sql";
import { PREPARERS } from "./prepare";
import { poisonMessageId, processBatch } from "./process-batch";
import { shareKey } from "./shard-split";
import { batchBody, deliver, raygunItem, storedEventIds } from "./test-helpers";

let a: TestProject;
let b: TestProject;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestProject("ledger-a"), createTestProject("ledger-b")]);
  PREPARERS["raygun:bomb"] = async () => {
    throw new TypeError("bad frames");
  };
});
afterAll(() => {
  delete PREPARERS["raygun:bomb"];
});

/** The environment with a dead-letter queue that records what is sent, and fails while `failing`. */
function recordingDlq() {
  const sent: { body: { id: string; items: IngestItem[] }; reason: string }[] = [];
  const state = { failing: false };
  const Q_DLQ = {
    async send(body: string) {
      if (state.failing) throw new Error("injected DLQ failure");
      const parsed = JSON.parse(body) as {
        deadLetter: { reason: string };
        body: { id: string; items: IngestItem[] };
      };
      sent.push({ body: parsed.body, reason: parsed.deadLetter.reason });
    },
    async sendBatch() {
      throw new Error("not used");
    },
  };
  return { sent, state, environment: { ...env, Q_DLQ } };
}

async function accepted(p: TestProject): Promise<number> {
  const stats = await api<{ totals: { outcome: string; quantity: number }[] }>(
    `/api/v1/projects/${p.id}/stats`,
  );
  return stats.body.totals.find((t) => t.outcome === "accepted")?.quantity ?? 0;
}

/** The dead letters the DLQ consumer makes of `body` once the queue gave up on it. */
function deadLettersOf(body: string, counted?: CountedCheck) {
  return toDeadLetters(
    {
      id: `dlq-${crypto.randomUUID()}`,
      body: JSON.stringify({
        v: 1,
        deadLetter: { queue: "sluice-errors-0", reason: "exhausted" },
        body: JSON.parse(body),
      }),
      attempts: 5,
    },
    env.BLOBS,
    Date.now(),
    counted,
  );
}

const HEX_TIME = /^[0-9a-f]{12}/;
const timeOf = (id: string) => Number.parseInt(id.slice(0, 12), 16);

describe("poison items and retries", () => {
  it("a poison item is dead-lettered once: not while its message retries, not again on redelivery", async () => {
    const a = await createTestProject("ledger-once");
    const poison = raygunItem(a, { itemType: "bomb" });
    const missing = raygunItem(a, {
      payload: undefined,
      blobKey: `claims/${a.id}/gone-${crypto.randomUUID()}`,
    });
    const good = raygunItem(a);
    const body = batchBody([poison, missing, good]);
    const dlq = recordingDlq();

    for (let attempt = 1; attempt < Number(env.MAX_RETRIES); attempt++) {
      const r = await deliver([body], { attempts: attempt, environment: dlq.environment });
      expect(r.result.retryMessages).toHaveLength(1);
    }
    expect(dlq.sent).toHaveLength(0);

    const last = await deliver([body], { attempts: Number(env.MAX_RETRIES), environment: dlq.environment });
    expect(last.result.explicitAcks).toHaveLength(1);
    expect(dlq.sent.map((s) => s.body.items[0]!.eventId).sort()).toEqual(
      [poison.eventId, missing.eventId].sort(),
    );

    // Redelivered after it was applied: stored nothing new, counted nothing, dead-lettered nothing.
    const again = await deliver([body], { attempts: 1, environment: dlq.environment });
    expect(again.result.explicitAcks).toHaveLength(1);
    expect(dlq.sent).toHaveLength(2);
    expect(await accepted(a)).toBe(1);
    expect(await storedEventIds(a)).toContain(good.eventId);
  });

  it("a failing dead-letter send retries the message with its claim checks in place; the retry stores everything", async () => {
    const p = await createTestProject("ledger-claim");
    const claimKey = `claims/${p.id}/big-${crypto.randomUUID()}`;
    const big = raygunItem(p);
    await env.BLOBS.put(claimKey, big.payload!);
    const claimed = { ...big, payload: undefined, blobKey: claimKey };
    const poison = raygunItem(p, { itemType: "bomb" });
    const body = batchBody([claimed, poison]);
    const dlq = recordingDlq();

    dlq.state.failing = true;
    const first = await deliver([body], { attempts: 1, environment: dlq.environment });
    expect(first.result.retryMessages).toHaveLength(1);
    expect(await env.BLOBS.head(claimKey)).not.toBeNull();

    dlq.state.failing = false;
    const second = await deliver([body], { attempts: 2, environment: dlq.environment });
    expect(second.result.explicitAcks).toHaveLength(1);
    expect(dlq.sent.map((s) => s.body.items[0]!.eventId)).toEqual([poison.eventId]);
    expect(dlq.sent.some((s) => s.reason.includes("failed on every attempt"))).toBe(false);
    expect(await storedEventIds(p)).toEqual([claimed.eventId]);
    expect(await accepted(p)).toBe(1);
    expect(await env.BLOBS.head(claimKey)).toBeNull();
  });
});

describe("ledger ids", () => {
  it("a message without an id and a poison item's dead letter get time-prefixed ids; a poison item's id is the same every time", async () => {
    const item = raygunItem(a);
    const batch = createMessageBatch("sluice-errors-0", [
      { id: "no-id", timestamp: new Date(), attempts: 1, body: JSON.stringify({ v: 1, items: [item] }) },
    ]);
    const before = Date.now();
    const metrics = await processBatch(batch, env);
    const rows = await (await metaDbOf(a.id))
      // A row lists each id without its slice: the row's id (`<slice>:~<batch>`) carries it.
      .prepare(
        "SELECT substr(l.id, 1, instr(l.id, ':~') - 1) || k.value AS id FROM message_ledger l, json_each(l.ids) k WHERE l.batch_id = ?",
      )
      .bind(metrics.batchId)
      .all<{ id: string }>();
    expect(rows.results).toHaveLength(1);
    const id = rows.results[0]!.id;
    expect(id).toMatch(HEX_TIME);
    expect(timeOf(id)).toBeGreaterThanOrEqual(before - 1000);
    expect(timeOf(id)).toBeLessThanOrEqual(Date.now() + 1000);

    const poison = raygunItem(a, { itemType: "bomb" });
    const dlq = recordingDlq();
    await deliver([batchBody([poison])], { environment: dlq.environment });
    await deliver([batchBody([poison])], { environment: dlq.environment });
    expect(dlq.sent).toHaveLength(2);
    expect(dlq.sent[0]!.body.id).toBe(poisonMessageId(poison));
    expect(dlq.sent[1]!.body.id).toBe(dlq.sent[0]!.body.id);
    expect(dlq.sent[0]!.body.id).toMatch(HEX_TIME);
    expect(timeOf(dlq.sent[0]!.body.id)).toBe(poison.receivedAt);
  });
});

describe("compact ledger rows", () => {
  it("list ids without their slice, and rows written before that (whole ids) still hold their messages", async () => {
    const p = await createTestProject("ledger-forms");
    const db = await metaDbOf(p.id);
    const time = Date.now().toString(16).padStart(12, "0");
    const [oldId, newId] = [`${time}old${crypto.randomUUID()}`, `${time}new${crypto.randomUUID()}`];
    // A row of the form the processor wrote before (`<slice>:<batch>`, whole ids), as a shard
    // holds them for the 4 days after the change: its message was applied then.
    const before = await accepted(p);
    await db
      .prepare("INSERT INTO message_ledger (id, batch_id, applied_at, ids) VALUES (?, 'b0', ?, ?)")
      .bind(`${oldId.slice(0, 10)}:b0`, Date.now(), JSON.stringify([oldId]))
      .run();
    const oldBody = batchBody([raygunItem(p)], oldId);
    const newBody = batchBody([raygunItem(p)], newId);
    const first = await deliver([oldBody, newBody]);
    expect(first.result.explicitAcks).toHaveLength(2);
    // The old row's message is not applied again; the new one is, once.
    expect(await accepted(p)).toBe(before + 1);
    const rows = await db
      .prepare("SELECT id, ids FROM message_ledger WHERE ids LIKE ?")
      .bind(`%${newId.slice(10)}%`)
      .all<{ id: string; ids: string }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]!.id.startsWith(`${newId.slice(0, 10)}:~`)).toBe(true);
    // The new row lists the project's share of the message (`<id>@<project>`), without its slice.
    expect(JSON.parse(rows.results[0]!.ids)).toEqual([`${newId.slice(10)}@${p.id}`]);
    // Both forms are found by the look-up that routes redeliveries, and both redeliveries add nothing.
    const newShare = shareKey(newId, p.id);
    expect([...(await ledgerHolds(db, [oldId, newShare, `${time}none`]))].sort()).toEqual(
      [newShare, oldId].sort(),
    );
    await deliver([oldBody, newBody]);
    expect(await accepted(p)).toBe(before + 1);
  });
});

describe("ledger ids with a comma", () => {
  it("an id whose row entry would be `,` is not taken for applied by a row listing two others", async () => {
    const p = await createTestProject("ledger-comma");
    const slice = Date.now().toString(16).padStart(10, "0").slice(0, 10);
    const before = await accepted(p);
    // One row of the slice listing two entries: its JSON text holds `","` between them.
    await deliver([batchBody([raygunItem(p)], `${slice}x`), batchBody([raygunItem(p)], `${slice}y`)]);
    expect(await accepted(p)).toBe(before + 2);
    // A message whose id is the slice and a comma: new, so it counts.
    await deliver([batchBody([raygunItem(p)], `${slice},`)]);
    expect(await accepted(p)).toBe(before + 3);
    // And once applied, its redelivery does not.
    await deliver([batchBody([raygunItem(p)], `${slice},`)], { attempts: 2 });
    expect(await accepted(p)).toBe(before + 3);
  });
});

describe("dead-letter replay", () => {
  it("a message applied once, then dead-lettered as per-project shares and replayed, changes no counter", async () => {
    const items = [raygunItem(a), raygunItem(b), raygunItem(b)];
    const [beforeA, beforeB] = [await accepted(a), await accepted(b)];
    const body = batchBody(items, `${Date.now().toString(16).padStart(12, "0")}replay`);
    expect((await deliver([body])).result.explicitAcks).toHaveLength(1);
    expect([await accepted(a), await accepted(b)]).toEqual([beforeA + 1, beforeB + 2]);

    // The queue gave up on it anyway (e.g. the ack was lost): the DLQ consumer splits it per project.
    const letters = await deadLettersOf(body);
    expect(letters).toHaveLength(2);
    const shares = letters.map((l) => JSON.stringify((JSON.parse(l.body) as { body: unknown }).body));
    const replay = await deliver(shares);
    expect(replay.result.explicitAcks).toHaveLength(2);
    expect([await accepted(a), await accepted(b)]).toEqual([beforeA + 1, beforeB + 2]);
  });
});

describe("dead-letter replay after the ledger forgot the message", () => {
  it("a share counted before it was dead-lettered counts nothing when replayed after pruning; one never counted counts once", async () => {
    const time = Date.now().toString(16).padStart(12, "0");
    const appliedBody = batchBody([raygunItem(a), raygunItem(b)], `${time}pruned`);
    expect((await deliver([appliedBody])).result.explicitAcks).toHaveLength(1);
    const [beforeA, beforeB] = [await accepted(a), await accepted(b)];
    // A message the processor never applied (it failed every attempt), of project a only.
    const neverBody = batchBody([raygunItem(a), raygunItem(a)], `${time}never`);

    const dead = (body: string) => deadLettersOf(body, ledgerCountedCheck(env));
    const letters = [...(await dead(appliedBody)), ...(await dead(neverBody))];
    const bodies = letters.map((l) => (JSON.parse(l.body) as { body: { id: string; counted?: true } }).body);
    expect(bodies.map((x) => x.counted ?? false)).toEqual([true, true, false]);

    // Days later the ledger has pruned the applied message (retention keeps 4 days of it).
    for (const p of [a, b]) {
      const db = await metaDbOf(p.id);
      await db
        .prepare("DELETE FROM message_ledger WHERE id >= ? AND id < ?")
        .bind(time.slice(0, 10), `${time.slice(0, 10)};`)
        .run();
      expect((await ledgerHolds(db, [`${time}pruned`])).size).toBe(0);
    }
    const replay = await deliver(bodies.map((x) => JSON.stringify(x)));
    expect(replay.result.explicitAcks).toHaveLength(3);
    expect([await accepted(a), await accepted(b)]).toEqual([beforeA + 2, beforeB]);
    // Replayed again: the share never counted before is in the ledger now.
    await deliver(
      bodies.map((x) => JSON.stringify(x)),
      { attempts: 2 },
    );
    expect([await accepted(a), await accepted(b)]).toEqual([beforeA + 2, beforeB]);
  });
});

describe("the dead-letter consumer's question to the ledger", () => {
  it("finds a share the processor applied under an escaped id, and one applied on the shard its project moved off", async () => {
    const time = Date.now().toString(16).padStart(12, "0");
    // An id the ledger keeps escaped (`,` and `@`).
    const odd = batchBody([raygunItem(a)], `${time}odd,id@x`);
    expect((await deliver([odd])).result.explicitAcks).toHaveLength(1);
    const [oddLetter] = await deadLettersOf(odd, ledgerCountedCheck(env));
    expect((JSON.parse(oddLetter!.body) as { body: { counted?: true } }).body.counted).toBe(true);

    // Applied on p's shard, then p moves off it (a move of an older release: moved_from alone).
    const p = await createTestProject("ledger-dlq-moved");
    const moved = batchBody([raygunItem(p)], `${time}moved`);
    expect((await deliver([moved])).result.explicitAcks).toHaveLength(1);
    const from = shardDbs(env).indexOf(await metaDbOf(p.id));
    const to = (from + 1) % shardDbs(env).length;
    await env.DB.prepare("UPDATE projects SET shard = ?, moved_from = ?, moved_at = ? WHERE id = ?")
      .bind(to, from, Date.now(), Number(p.id))
      .run();
    const [movedLetter] = await deadLettersOf(moved, ledgerCountedCheck(env));
    expect((JSON.parse(movedLetter!.body) as { body: { counted?: true } }).body.counted).toBe(true);
  });
});

describe("a replayed dead letter marked counted", () => {
  it("counts nothing, but retries an item that fails and dead-letters it again, marked, on the last attempt", async () => {
    const p = await createTestProject("ledger-counted-retry");
    const good = raygunItem(p);
    const missing = raygunItem(p, {
      payload: undefined,
      blobKey: `claims/${p.id}/gone-${crypto.randomUUID()}`,
    });
    const time = Date.now().toString(16).padStart(12, "0");
    const body = JSON.stringify({
      ...JSON.parse(batchBody([good, missing], `${time}counted`)),
      counted: true,
    });
    const before = await accepted(p);
    const dlq = recordingDlq();
    const first = await deliver([body], { attempts: 1, environment: dlq.environment });
    expect(first.result.retryMessages).toHaveLength(1);
    const last = await deliver([body], { attempts: Number(env.MAX_RETRIES), environment: dlq.environment });
    expect(last.result.explicitAcks).toHaveLength(1);
    expect(dlq.sent.map((s) => [s.body.items[0]!.eventId, (s.body as { counted?: true }).counted])).toEqual([
      [missing.eventId, true],
    ]);
    expect(await storedEventIds(p)).toContain(good.eventId);
    expect(await accepted(p)).toBe(before);
  });
});

describe("racing deliveries", () => {
  it("a message another delivery applies while this batch writes counts once, and the rest of the batch still counts", async () => {
    const p = await createTestProject("ledger-race");
    const shard = await metaDbOf(p.id);
    const hours = async () =>
      (
        await shard
          .prepare("SELECT coalesce(sum(count), 0) AS n FROM group_hours WHERE project_id = ?")
          .bind(Number(p.id))
          .first<{ n: number }>()
      )?.n ?? 0;
    const groupCount = async () =>
      (await api<{ groups: { count: number }[] }>(`/api/v1/projects/${p.id}/groups`)).body.groups.reduce(
        (n, g) => n + g.count,
        0,
      );
    // Both messages share a send-time slice, as messages of one burst do.
    const slice = Date.now().toString(16).padStart(12, "0");
    const raced = batchBody([raygunItem(p), raygunItem(p), raygunItem(p)], `${slice}race-1`);
    const other = batchBody([raygunItem(p), raygunItem(p)], `${slice}race-2`);
    // This batch finds neither message applied; then, just before its transaction, another
    // delivery of the first message commits it.
    let once = false;
    const racing = new Proxy(shard, {
      get(target, prop) {
        if (prop === "batch" && !once)
          return async (stmts: D1PreparedStatement[]) => {
            once = true;
            expect((await deliver([raced])).result.explicitAcks).toHaveLength(1);
            return target.batch(stmts);
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const binding = await shardBindingOf(p.id);
    const { result } = await deliver([raced, other], { environment: { ...env, [binding]: racing } });
    expect(once).toBe(true);
    expect(result.explicitAcks).toHaveLength(2);
    // 3 + 2 events, each counted once: group counts, hourly occurrences and accepted outcomes.
    expect(await groupCount()).toBe(5);
    expect(await hours()).toBe(5);
    expect(await accepted(p)).toBe(5);
  });
});
