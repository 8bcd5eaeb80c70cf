// `npm run capacity` as a user runs it (the CLI, in Node), on bench results written here: the plan
// must follow the measured operations per event and Cloudflare's published limits with 2× headroom,
// and bad input must end in a clear message (exit 2), never a stack trace.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "capacity.mjs");
const dir = mkdtempSync(join(tmpdir(), "capacity-test-"));

/** Cloudflare's published limits (../shared/reference/cloudflare-platform.md). */
const QUEUE_MSGS = 5000;
const CONSUMERS = 250;
const D1_QPS = 1000;
const D1_BYTES = 10e9;

interface Q {
  eventsPerMessage: number;
  msPerBatch: number;
  d1QueriesPerBatch: number;
}

function benchJson(
  name: string,
  errors: Q,
  { d1BytesPerEvent = 0, retentionDays = 90, cost = undefined as unknown } = {},
) {
  const queue = {
    events: 1000,
    r2WritesPerEvent: 0.01,
    indexMessagesPerEvent: 0,
    indexer: { d1QueriesPerEvent: 0, msPerBatch: 0 },
    ...errors,
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      commit: "test",
      date: "2026-01-01T00:00:00.000Z",
      retentionDays,
      processor: { search: "es", d1BytesPerEvent, perQueue: { "sluice-errors-0": queue } },
      cost,
    }),
  );
  return path;
}

async function capacity(...args: string[]) {
  const { stdout } = await run(process.execPath, [CLI, ...args, "--json"]);
  return JSON.parse(stdout);
}

async function failure(...args: string[]) {
  try {
    await run(process.execPath, [CLI, ...args]);
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error("capacity succeeded on bad input");
}

describe("npm run capacity", () => {
  it("adds a queue shard exactly when messages/s pass half of 5,000 per queue", async () => {
    const epm = 4;
    const from = benchJson("shards", { eventsPerMessage: epm, msPerBatch: 10, d1QueriesPerBatch: 1 });
    const atHalf = (QUEUE_MSGS / 2) * epm;
    const a = await capacity("--rate", String(atHalf), "--mix", "errors=1", "--from", from);
    const b = await capacity("--rate", String(atHalf + epm), "--mix", "errors=1", "--from", from);
    expect(a.perKind.errors.messagesPerSecond).toBe(QUEUE_MSGS / 2);
    expect(a.queueShards.errors).toBe(1);
    expect(b.queueShards.errors).toBe(2);
    for (const row of [...a.rows, ...b.rows])
      if (row.utilization != null) expect(row.utilization).toBeLessThanOrEqual(0.5);
  });

  it("follows the measured packing: half the events per message, twice the messages", async () => {
    const rate = "10000";
    const four = await capacity(
      "--rate",
      rate,
      "--mix",
      "errors=1",
      "--from",
      benchJson("p4", { eventsPerMessage: 4, msPerBatch: 10, d1QueriesPerBatch: 1 }),
    );
    const two = await capacity(
      "--rate",
      rate,
      "--mix",
      "errors=1",
      "--from",
      benchJson("p2", { eventsPerMessage: 2, msPerBatch: 10, d1QueriesPerBatch: 1 }),
    );
    expect(two.perKind.errors.messagesPerSecond).toBeCloseTo(2 * four.perKind.errors.messagesPerSecond, 6);
  });

  it("adds queue shards when slow batches would need more than half of 250 consumers per queue", async () => {
    const q = { eventsPerMessage: 1, msPerBatch: 60_000, d1QueriesPerBatch: 1 };
    const rate = 1000; // 10 batches/s of 100 messages, 60 s each: 600 invocations in flight
    const out = await capacity("--rate", String(rate), "--mix", "errors=1", "--from", benchJson("slow", q));
    const inFlight = (rate / 100) * (q.msPerBatch / 1000);
    expect(out.perKind.errors.consumerInvocationsInFlight).toBeCloseTo(inFlight, 6);
    expect(out.queueShards.errors).toBe(Math.ceil((inFlight * 2) / CONSUMERS));
    expect(out.perKind.errors.maxConcurrencyPerShard).toBeLessThanOrEqual(CONSUMERS);
  });

  it("sizes D1 shards by queries and by bytes held over the retention, whichever needs more", async () => {
    const days = 30;
    const bytes = 200;
    const q = { eventsPerMessage: 5, msPerBatch: 10, d1QueriesPerBatch: 4 };
    const rate = 3000;
    const out = await capacity(
      "--rate",
      String(rate),
      "--mix",
      "errors=1",
      "--retention-days",
      String(days),
      "--from",
      benchJson("d1", q, { d1BytesPerEvent: bytes }),
    );
    const queries = (rate / q.eventsPerMessage / 100) * q.d1QueriesPerBatch;
    const held = rate * bytes * days * 86400;
    expect(out.d1ShardsBy.queries).toBe(Math.max(1, Math.ceil((queries * 2) / D1_QPS)));
    expect(out.d1ShardsBy.size).toBe(Math.ceil((held * 2) / D1_BYTES));
    expect(out.d1MetadataShards).toBe(Math.max(out.d1ShardsBy.queries, out.d1ShardsBy.size));
  });

  it("says how many events/s the embedded FTS5 index can hold, from the cost curve's bytes beside Elasticsearch's", async () => {
    // KB-months per event, as the cost model prices D1 storage: 90 days = 3 months.
    const point = (search: string, kbMonths: number) => ({
      search,
      sizes: "5 KB",
      clientsInFlight: 16,
      lines: [
        { item: "D1 storage over retention (KB-months per event; price per GB-month)", perEvent: kbMonths },
      ],
    });
    const cost = { retentionDays: 90, curve: [point("es", 0.0003), point("fts", 0.6003)] };
    const q = { eventsPerMessage: 4, msPerBatch: 10, d1QueriesPerBatch: 1 };
    const out = await capacity("--rate", "100", "--mix", "errors=1", "--from", benchJson("fts", q, { cost }));
    // (0.6003 − 0.0003) KB-months over 3 months = 200 B per event; 5 GB / (200 B × 90 days).
    expect(out.embeddedIndex.bytesPerEvent).toBeCloseTo(200, 6);
    expect(out.embeddedIndex.maxEventsPerSecond).toBeCloseTo(D1_BYTES / 2 / (200 * 90 * 86400), 6);
    const row = out.rows.find((r: { what: string }) => r.what.includes("embedded FTS5 event index"));
    expect(row.need).toBeCloseTo((100 * 86400 * 90 * 200) / 1e9, 6);
    // Planned for 30 days, the same bytes per event (the curve was priced at 90): three times the rate.
    const month = await capacity(
      "--rate",
      "100",
      "--mix",
      "errors=1",
      "--retention-days",
      "30",
      "--from",
      benchJson("fts30", q, { cost }),
    );
    expect(month.embeddedIndex.bytesPerEvent).toBeCloseTo(200, 6);
    expect(month.embeddedIndex.maxEventsPerSecond).toBeCloseTo(3 * out.embeddedIndex.maxEventsPerSecond, 6);
    const none = await capacity("--rate", "100", "--mix", "errors=1", "--from", benchJson("nofts", q));
    expect(none.embeddedIndex).toBeNull();
  });

  it("answers bad input with a message and exit code 2", async () => {
    const from = benchJson("bad", { eventsPerMessage: 4, msPerBatch: 10, d1QueriesPerBatch: 1 });
    const noRate = await failure("--from", from);
    expect(noRate.code).toBe(2);
    expect(noRate.stderr).toMatch(/usage: npm run capacity -- --rate/);
    const unknownKind = await failure("--rate", "100", "--mix", "sessions=1", "--from", from);
    expect(unknownKind.code).toBe(2);
    expect(unknownKind.stderr).toMatch(/measured no "sessions" queue/);
    const badMix = await failure("--rate", "100", "--mix", "errors=-1", "--from", from);
    expect(badMix.stderr).toMatch(/bad --mix part/);
    const zeroMix = await failure("--rate", "100", "--mix", "errors=0", "--from", from);
    expect(zeroMix.stderr).toMatch(/shares add up to 0/);
    const missing = await failure("--rate", "100", "--from", join(dir, "nope.json"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no bench result/);
    const corrupt = join(dir, "corrupt.json");
    writeFileSync(corrupt, "{not json");
    const notJson = await failure("--rate", "100", "--from", corrupt);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/is not a bench result/);
    for (const f of [noRate, unknownKind, badMix, zeroMix, missing, notJson])
      expect(f.stderr).not.toMatch(/\n\s+at /);
  });
});
