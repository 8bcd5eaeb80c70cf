// Queue shards under load: the REAL edge (in-process) with QUEUE_SHARDS = {"errors": N} and N
// counting queue bindings, 16 clients in flight. Every accepted report must be in exactly one
// shard's messages (nothing lost, nothing doubled), and the hash must spread them evenly.
import { ctx, fakeEdgeEnv, INGEST_KEY, newStats } from "./fakes.mjs";
import { itemsIn } from "./messages.mjs";
import { raygunNodeReport, rng, sizeSampler, zipf } from "./payloads.mjs";

export async function benchShards(lib, { shards = 4, reports = 8000, concurrency = 16 } = {}) {
  const capture = [];
  const env = fakeEdgeEnv(newStats(), { capture, shards: { errors: shards, rum: 1, telemetry: 1 } });
  lib.clearProjectCache();
  const rand = rng(11);
  const size = sizeSampler(rand);
  const group = zipf(200, 1.1, rand);
  let accepted = 0;
  const t0 = performance.now();
  for (let i = 0; i < reports; i += concurrency) {
    const wave = [];
    for (let j = i; j < Math.min(reports, i + concurrency); j++) {
      const body = JSON.stringify(raygunNodeReport({ bytes: size(), g: group(), id: j, rand }));
      wave.push(
        lib.app.fetch(
          new Request("https://ingest.sluice.test/entries", {
            method: "POST",
            headers: { "content-type": "application/json", "x-apikey": INGEST_KEY },
            body,
          }),
          env,
          ctx,
        ),
      );
    }
    for (const res of await Promise.all(wave)) if (res.status === 202) accepted++;
  }
  const seconds = (performance.now() - t0) / 1000;
  lib.clearProjectCache();
  const perShard = {};
  for (let i = 0; i < shards; i++) perShard[`sluice-errors-${i}`] = { messages: 0, events: 0 };
  for (const m of capture) {
    const s = (perShard[m.queue] ??= { messages: 0, events: 0 });
    s.messages++;
    s.events += itemsIn(typeof m.body === "string" ? m.body : JSON.stringify(m.body));
  }
  const counts = Object.values(perShard).map((s) => s.events);
  const stored = counts.reduce((a, b) => a + b, 0);
  const mean = stored / shards;
  return {
    shards,
    reports,
    clientsInFlight: concurrency,
    accepted,
    inMessages: stored,
    lost: accepted - stored,
    shardsUsed: counts.filter((n) => n > 0).length,
    maxOverMean: Math.round((Math.max(...counts) / mean) * 1000) / 1000,
    reportsPerSecond: Math.round(accepted / seconds),
    perShard,
  };
}
