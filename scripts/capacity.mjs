#!/usr/bin/env node
// `npm run capacity -- --rate 28000 [--mix errors=0.8,rum=0.2] [--retention-days 90] [--from f.json]
// [--json]`: turns the operations per event that `npm run bench` MEASURED (its JSON: by default
// .cache/bench/last.json, else BENCHMARKS.json) into a deployment plan (queue shards per kind,
// consumer concurrency, D1 metadata shards, R2 writes per second), each resource kept at or below
// half its Cloudflare limit (2× headroom). No per-event figure is typed in here: only the platform's
// published limits are.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { d1HeldBytesPerEvent, d1LedgerBytesPerEvent } from "../bench/lib/cost.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Cloudflare's limits (../shared/reference/cloudflare-platform.md). */
export const LIMITS = {
  queueMessagesPerSecond: 5000,
  consumerConcurrency: 250,
  consumerBatchMessages: 100,
  d1QueriesPerSecond: 1000,
  d1Bytes: 10e9,
  r2WritesPerKeyPerSecond: 1,
  doRequestsPerSecond: 1000,
};
export const HEADROOM = 2;

const ceil = (x) => Math.max(1, Math.ceil(x - 1e-9));
const fmt = (x, d = 1) =>
  x == null ? "—" : Number(x).toLocaleString("en-US", { maximumFractionDigits: x < 10 ? 3 : d });

/** A queue's kind from its name: "sluice-errors-0" → "errors". */
const kindOf = (queueName) => queueName.replace(/^sluice-|-\d+$/g, "");

/** The mix the bench measured: events per queue kind, every shard of a kind summed. */
export function measuredMix(bench) {
  const mix = {};
  for (const [name, q] of Object.entries(bench.processor?.perQueue ?? {}))
    mix[kindOf(name)] = (mix[kindOf(name)] ?? 0) + (q.events ?? 0);
  if (!(mix.errors > 0)) mix.errors = 1;
  return mix;
}

/** The plan for `rate` events/s split by `mix` (kind → share), from one bench result. */
export function plan(bench, { rate, mix, retentionDays }) {
  // The bench records how long the ledger is kept (the queue's retention); older results did not.
  const ledgerDays = bench.ledgerDays ?? retentionDays;
  const p = bench.processor;
  if (!p?.perQueue) throw new Error("the bench result has no processor section: run `npm run bench` first");
  // Each queue kind the bench measured (errors, rum, telemetry), by its first shard's figures.
  const kinds = {};
  for (const [name, q] of Object.entries(p.perQueue)) kinds[kindOf(name)] ??= q;
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error("--mix: the shares add up to 0");
  const rows = [];
  let d1Queries = 0;
  // D1 bytes each second adds and keeps for the data's retention, and those it keeps only while
  // the queue can redeliver (the message ledger).
  let d1BytesPerSecond = 0;
  let ledgerBytesPerSecond = 0;
  const perKind = {};
  const heldByKind = {};
  for (const [kind, share] of Object.entries(mix)) {
    const q = kinds[kind];
    if (!q)
      throw new Error(`the bench measured no "${kind}" queue (known: ${Object.keys(kinds).join(", ")})`);
    const events = (rate * share) / total;
    const messages = events / q.eventsPerMessage;
    const byRate = ceil((messages * HEADROOM) / LIMITS.queueMessagesPerSecond);
    // Little's law: invocations in flight = batches per second × seconds per batch.
    const batchesPerSecond = messages / LIMITS.consumerBatchMessages;
    const inFlight = batchesPerSecond * (q.msPerBatch / 1000);
    const byConsumers = ceil((inFlight * HEADROOM) / LIMITS.consumerConcurrency);
    const shards = Math.max(byRate, byConsumers);
    const indexMessages = events * q.indexMessagesPerEvent;
    const indexBatches = indexMessages / LIMITS.consumerBatchMessages;
    d1Queries += batchesPerSecond * q.d1QueriesPerBatch + events * q.indexer.d1QueriesPerEvent;
    // Per kind: the larger of the file's growth and the rows' bytes for a run of one queue, the
    // queue's own rows in a mixed run (bench/lib/cost.mjs).
    const held = d1HeldBytesPerEvent(p, q);
    const ledger = Math.min(held, d1LedgerBytesPerEvent(p, q));
    d1BytesPerSecond += events * (held - ledger);
    ledgerBytesPerSecond += events * ledger;
    heldByKind[kind] = { held, ledger };
    perKind[kind] = {
      eventsPerSecond: events,
      eventsPerMessage: q.eventsPerMessage,
      messagesPerSecond: messages,
      queueShards: shards,
      consumerInvocationsInFlight: inFlight,
      maxConcurrencyPerShard: Math.min(LIMITS.consumerConcurrency, ceil((inFlight * HEADROOM) / shards)),
      r2WritesPerSecond: events * q.r2WritesPerEvent,
      indexMessagesPerSecond: indexMessages,
      indexerInvocationsInFlight: indexBatches * (q.indexer.msPerBatch / 1000),
    };
    rows.push(
      [
        `${kind}: messages/s (${fmt(q.eventsPerMessage)} events/message)`,
        messages,
        shards * LIMITS.queueMessagesPerSecond,
        `${shards} queue shard(s) of ${fmt(LIMITS.queueMessagesPerSecond)}/s`,
      ],
      [
        `${kind}: consumer invocations in flight (${fmt(q.msPerBatch)} ms per batch of 100 messages)`,
        inFlight,
        shards * LIMITS.consumerConcurrency,
        `${shards} × ${LIMITS.consumerConcurrency} concurrent consumers`,
      ],
      [
        `${kind}: R2 segment writes/s (each to a fresh key, once)`,
        events * q.r2WritesPerEvent,
        null,
        `${LIMITS.r2WritesPerKeyPerSecond} write/s per key: met, no key is written twice`,
      ],
    );
  }
  const indexMessages = Object.values(perKind).reduce((a, k) => a + k.indexMessagesPerSecond, 0);
  const indexShards = ceil((indexMessages * HEADROOM) / LIMITS.queueMessagesPerSecond);
  rows.push([
    "index queue: messages/s",
    indexMessages,
    indexShards * LIMITS.queueMessagesPerSecond,
    `${indexShards} queue(s)`,
  ]);
  const d1Bytes = d1BytesPerSecond * retentionDays * 86400 + ledgerBytesPerSecond * ledgerDays * 86400;
  const byQueries = ceil((d1Queries * HEADROOM) / LIMITS.d1QueriesPerSecond);
  const bySize = ceil((d1Bytes * HEADROOM) / LIMITS.d1Bytes);
  const d1Shards = Math.max(byQueries, bySize);
  rows.push(
    [
      "D1 queries/s (processor + indexer statements)",
      d1Queries,
      d1Shards * LIMITS.d1QueriesPerSecond,
      `${d1Shards} metadata shard(s) of ~${fmt(LIMITS.d1QueriesPerSecond)}/s`,
    ],
    [
      `D1 GB held: ${Object.entries(heldByKind)
        .map(([k, b]) => `${k} ${fmt(b.held - b.ledger)} B per event for ${retentionDays} days`)
        .join(", ")}; the message ledger (${Object.entries(heldByKind)
        .map(([k, b]) => `${k} ${fmt(b.ledger)} B`)
        .join(", ")}) for ${ledgerDays} days, until the queue can no longer redeliver`,
      d1Bytes / 1e9,
      (d1Shards * LIMITS.d1Bytes) / 1e9,
      `${d1Shards} × ${LIMITS.d1Bytes / 1e9} GB`,
    ],
  );
  // Without Elasticsearch the event index is D1 FTS5 in the control database, which is one database
  // (the edge authenticates against it): the curve's embedded point beside the Elasticsearch point of
  // the same load says how many bytes per event that index holds, so how much it can take at all.
  const curve = bench.cost?.curve ?? [];
  const storage = (pt) =>
    pt?.lines?.find((l) => l.item.startsWith("D1 storage over retention"))?.perEvent ?? null;
  // KB-months per event (cost.mjs: GB-months × 1e6), priced at the bench's retention → bytes held;
  // of every load the curve ran, the most the embedded configuration held beyond Elasticsearch's.
  const pricedMonths = (bench.cost?.retentionDays ?? retentionDays) / 30;
  let indexBytes = 0;
  for (const pt of curve) {
    const es = curve.find(
      (e) => e.search === "es" && e.clientsInFlight === pt.clientsInFlight && e.sizes === pt.sizes,
    );
    if (pt.search !== "fts" || storage(pt) === null || !es || storage(es) === null) continue;
    indexBytes = Math.max(indexBytes, ((storage(pt) - storage(es)) * 1000) / pricedMonths);
  }
  let embeddedIndex = null;
  if (indexBytes > 0) {
    const held = rate * 86400 * retentionDays * indexBytes;
    const maxRate = LIMITS.d1Bytes / HEADROOM / (86400 * retentionDays * indexBytes);
    embeddedIndex = { bytesPerEvent: indexBytes, maxEventsPerSecond: maxRate };
    rows.push([
      `only without Elasticsearch: the embedded FTS5 event index, ${fmt(Math.round(indexBytes))} B per event for ${retentionDays} days, GB in the control database (one database)`,
      held / 1e9,
      LIMITS.d1Bytes / 1e9,
      `one database: the embedded index holds at most ${fmt(maxRate, 2)} events/s at this retention; above that, configure Elasticsearch`,
    ]);
  }
  const quota = bench.edge?.inProcess?.quota?.perMinuteLimit;
  if (quota?.doRequestsPerSecond != null) {
    // A busy isolate asks its project's object a few times a second (leases), whatever its rate; a
    // quiet one asks per request, i.e. less. So the object's load is per isolate serving the project.
    const perIsolate = quota.doRequestsPerSecond;
    const isolates = Math.floor(LIMITS.doRequestsPerSecond / HEADROOM / perIsolate);
    rows.push([
      `only if a per-minute limit is set: quota Durable Object requests/s per edge isolate serving ONE project (one isolate from cold, ${fmt(quota.seconds)} s at ${fmt(Math.round(quota.reports / quota.seconds))} reports/s: leases, not one request per report)`,
      perIsolate,
      LIMITS.doRequestsPerSecond,
      `one object per project: ${fmt(isolates)} isolates may serve one project at once before half its limit`,
    ]);
  } else if (quota)
    rows.push([
      "only if a per-minute limit is set: quota Durable Object requests/s of ONE project carrying all the traffic",
      rate * quota.doRequestsPerEvent,
      LIMITS.doRequestsPerSecond,
      "one object per project (a bench without leases: one request per report)",
    ]);
  return {
    source: { commit: bench.commit, date: bench.date, search: p.search, quick: bench.quick },
    rate,
    mix,
    retentionDays,
    headroom: HEADROOM,
    limits: LIMITS,
    queueShards: Object.fromEntries(Object.entries(perKind).map(([k, v]) => [k, v.queueShards])),
    indexQueueShards: indexShards,
    d1MetadataShards: d1Shards,
    d1ShardsBy: { queries: byQueries, size: bySize },
    embeddedIndex,
    perKind,
    rows: rows.map(([what, need, capacity, provision]) => ({
      what,
      need,
      capacity,
      utilization: capacity ? need / capacity : null,
      provision,
    })),
  };
}

function main() {
  const { values } = parseArgs({
    options: {
      rate: { type: "string" },
      mix: { type: "string" },
      "retention-days": { type: "string" },
      from: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const rate = Number(values.rate);
  if (!(rate > 0))
    throw new Error("usage: npm run capacity -- --rate <events per second> [--mix errors=0.8,rum=0.2]");
  // The newest run that measured the processor (a run of other sections alone has no operations).
  const candidates = values.from
    ? [values.from]
    : [join(ROOT, ".cache", "bench", "last.json"), join(ROOT, "BENCHMARKS.json")];
  const read = (f) => {
    try {
      return JSON.parse(readFileSync(f, "utf8"));
    } catch (err) {
      throw new Error(`${f} is not a bench result (${err.message})`);
    }
  };
  const from = candidates.find((f) => existsSync(f) && read(f).processor?.perQueue);
  if (!from)
    throw new Error(
      `no bench result with a processor section in ${candidates.join(" or ")}: run \`npm run bench\` (or \`npm run bench -- --only=edge,processor\`) first`,
    );
  const bench = read(from);
  let mix;
  if (values.mix) {
    mix = {};
    for (const part of values.mix.split(",")) {
      const [k, v] = part.split("=");
      if (!k || !(Number(v) >= 0)) throw new Error(`bad --mix part "${part}" (want kind=share)`);
      mix[k.trim()] = Number(v);
    }
  } else mix = measuredMix(bench);
  const retentionDays = Number(values["retention-days"] ?? bench.retentionDays ?? 90);
  const out = plan(bench, { rate, mix, retentionDays });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const pct = (u) => (u == null ? "—" : `${(u * 100).toFixed(1)} %`);
  const L = [];
  const shareTotal = Object.values(mix).reduce((a, b) => a + b, 0);
  L.push(
    `Capacity plan for ${fmt(rate)} events/s (${Object.entries(mix)
      .map(([k, v]) => `${k} ${((100 * v) / shareTotal).toFixed(0)} %`)
      .join(", ")}), ${retentionDays} days of retention, ${HEADROOM}× headroom under every limit.`,
    `Operations per event from ${from.replace(`${ROOT}/`, "")} (commit ${bench.commit?.slice(0, 10) ?? "?"}${bench.commitDirty ? "+dirty" : ""}, ${bench.date}, search: ${out.source.search}${bench.quick ? ", QUICK run" : ""}).`,
    "",
    "| resource | needed | capacity provisioned | use | provision |",
    "|---|---|---|---|---|",
    ...out.rows.map(
      (r) => `| ${r.what} | ${fmt(r.need)} | ${fmt(r.capacity)} | ${pct(r.utilization)} | ${r.provision} |`,
    ),
    "",
    `Plan: queue shards ${Object.entries(out.queueShards)
      .map(([k, n]) => `${k} ${n}`)
      .join(
        ", ",
      )}; index queue ${out.indexQueueShards}; D1 metadata shards ${out.d1MetadataShards} (by queries ${out.d1ShardsBy.queries}, by size ${out.d1ShardsBy.size}); consumer max_concurrency per shard ${Object.entries(
      out.perKind,
    )
      .map(([k, v]) => `${k} ${v.maxConcurrencyPerShard}`)
      .join(", ")}.`,
    "Both are configuration: queue shards by QUEUE_SHARDS and the queue bindings, D1 metadata shards by the DB_SHARD_<n> bindings (projects are placed on the least-loaded shard; `npm run sluice -- projects:move` moves one).",
  );
  process.stdout.write(`${L.join("\n")}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`capacity: ${err.message}\n`);
    process.exit(2);
  }
}
