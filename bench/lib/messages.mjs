// Queue messages for the processor benchmarks, produced by the REAL edge (in-process, bundled from
// workers/edge/app.ts) from synthetic SDK requests: the bodies are exactly what `enqueue` sends.
import { ctx, fakeEdgeEnv, INGEST_KEY, newStats } from "./fakes.mjs";
import {
  raygunJsReport,
  raygunNodeReport,
  rng,
  rumBody,
  sentryEnvelope,
  sizeSampler,
  zipf,
} from "./payloads.mjs";

const ORIGIN = "https://ingest.sluice.test";

/**
 * The traffic mix, one deterministic draw per error event (seeded PRNG): below `sentryNode` a
 * captured Sentry node envelope, below `sentryPython` a Python one, below `raygunNode` a
 * raygun4node-shaped report, else a raygun4js-shaped one (Sentry shares fall to Raygun when the
 * processor cannot take Sentry yet). Error groups: Zipf(`zipfS`) over `groups` ranks.
 */
export const MIX = { sentryNode: 0.2, sentryPython: 0.3, raygunNode: 0.72, groups: 200, zipfS: 1.1 };

function post(path, body, headers = {}) {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-apikey": INGEST_KEY, ...headers },
    body,
  });
}

function sentryPost(env) {
  const headers = {};
  for (const [k, v] of Object.entries(env.headers)) {
    if (!/^(content-encoding|content-length|transfer-encoding|connection)$/i.test(k)) headers[k] = v;
  }
  return new Request(`${ORIGIN}${env.url}`, { method: "POST", headers, body: env.body });
}

/** Which SDK shapes the processor can take today (Sentry joins once its preparers exist). */
export async function workloadMix(lib) {
  const stats = newStats();
  const env = fakeEdgeEnv(stats);
  const probe = await lib.app.fetch(sentryPost(sentryEnvelope(lib, "node-exception", rng(1))), env, ctx);
  await probe.arrayBuffer();
  const sentryEdge = probe.status === 200 && !stats.consoleForwards;
  const sentryProcessor = Object.keys(lib.PREPARERS).some((k) => k.startsWith("sentry:"));
  return { sentryEdge, sentryProcessor, preparers: Object.keys(lib.PREPARERS) };
}

/**
 * Builds `errors` error events, `rumEvents` RUM page-view items and `sessions` Sentry session
 * updates (the telemetry queue's traffic) as queue messages. `fixedBytes` forces every Raygun report
 * to that size (the memory test: 100 × 50 KB).
 */
export async function buildMessages(
  lib,
  {
    errors,
    rumEvents = 0,
    sessions = 0,
    seed = 1,
    fixedBytes = null,
    sentry = false,
    concurrency = 1,
    everyGroup = false,
  },
) {
  const rand = rng(seed);
  const size = sizeSampler(rand);
  // everyGroup: one event of each group the mix can draw (each Sentry fixture, then every Raygun
  // rank as a raygun4node and a raygun4js report), the warm-up that gives a run the groups a
  // long-lived project already has.
  const seedGroups = sentry ? 2 : 0;
  if (everyGroup) errors = 2 * MIX.groups + seedGroups;
  const zipfGroup = zipf(MIX.groups, MIX.zipfS, rand);
  let nth = 0;
  const group = everyGroup ? () => Math.floor(nth++ / 2) : zipfGroup;
  const stats = newStats();
  const sizes = [];
  const capture = [];
  const blobs = new Map();
  const env = fakeEdgeEnv(stats, { capture, blobs });
  const kinds = { raygunNode: 0, raygunJs: 0, sentryNode: 0, sentryPython: 0, rum: 0, sessions: 0 };
  let payloadBytes = 0;
  let wave = [];
  for (let i = 0; i < errors; i++) {
    const u = !everyGroup
      ? rand()
      : i < seedGroups
        ? [0, MIX.sentryNode][i]
        : (i - seedGroups) % 2 === 0
          ? 0.5
          : 0.9;
    let req;
    if (sentry && u < MIX.sentryNode) {
      req = sentryPost(sentryEnvelope(lib, "node-exception", rand));
      kinds.sentryNode++;
    } else if (sentry && u < MIX.sentryPython) {
      req = sentryPost(sentryEnvelope(lib, "python-exception", rand));
      kinds.sentryPython++;
    } else if (fixedBytes || u < MIX.raygunNode) {
      const body = JSON.stringify(raygunNodeReport({ bytes: fixedBytes ?? size(), g: group(), id: i, rand }));
      payloadBytes += body.length;
      sizes.push(body.length);
      req = post("/entries", body);
      kinds.raygunNode++;
    } else {
      const body = JSON.stringify(raygunJsReport({ bytes: size(), g: group(), id: i, rand }));
      payloadBytes += body.length;
      sizes.push(body.length);
      req = post("/entries", body);
      kinds.raygunJs++;
    }
    // `concurrency` clients in flight at once: the edge group-commits their reports into shared
    // messages, as it does under load; 1 = one report per message.
    wave.push(req);
    if (wave.length >= concurrency || i === errors - 1) {
      const responses = await Promise.all(wave.map((r) => lib.app.fetch(r, env, ctx)));
      wave = [];
      for (const res of responses) {
        if (res.status >= 300)
          throw new Error(`edge refused a generated event: ${res.status} ${await res.text()}`);
      }
    }
  }
  let rumLeft = rumEvents;
  let s = 0;
  while (rumLeft > 0) {
    const items = Math.min(rumLeft, 1 + Math.floor(rand() * 5));
    const res = await lib.app.fetch(
      post("/events", JSON.stringify(rumBody({ items, id: s++, rand }))),
      env,
      ctx,
    );
    if (res.status !== 202) throw new Error(`edge refused generated RUM: ${res.status}`);
    rumLeft -= items;
    kinds.rum += items;
  }
  // Sentry session updates (release health), as SDKs send them: one envelope per session change,
  // `concurrency` clients in flight so the edge packs them as it packs errors.
  for (let i = 0; i < sessions; i += concurrency) {
    const wave = [];
    for (let k = i; k < Math.min(sessions, i + concurrency); k++)
      wave.push(sentryPost(sessionEnvelope(lib, rand)));
    for (const res of await Promise.all(wave.map((r) => lib.app.fetch(r, env, ctx)))) {
      if (res.status !== 200) throw new Error(`edge refused a generated session: ${res.status}`);
      kinds.sessions++;
    }
  }
  const byQueue = new Map();
  for (const m of capture) {
    if (!byQueue.has(m.queue)) byQueue.set(m.queue, []);
    byQueue.get(m.queue).push(typeof m.body === "string" ? m.body : JSON.stringify(m.body));
  }
  sizes.sort((a, b) => a - b);
  const at = (p) => sizes[Math.min(sizes.length - 1, Math.floor(p * sizes.length))] ?? null;
  const raygunSizes = { min: sizes[0] ?? null, median: at(0.5), p90: at(0.9), max: sizes.at(-1) ?? null };
  return { byQueue, blobs, kinds, edgeStats: stats, rawPayloadBytes: payloadBytes, raygunSizes, seed };
}

/** The captured node session envelope with a fresh session id, started and sent now. */
function sessionEnvelope(lib, rand) {
  const env = sentryEnvelope(lib, "node-session", rand);
  const sid = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join("");
  const now = new Date().toISOString();
  const text = new TextDecoder()
    .decode(env.body)
    .replace(/"sid":"[0-9a-f]{32}"/, `"sid":"${sid}"`)
    .replace(/"(started|timestamp|sent_at)":"[^"]*"/g, (_, k) => `"${k}":"${now}"`);
  return { ...env, body: new TextEncoder().encode(text) };
}

/** Splits bodies into queue batches of `size` messages (the consumers' max_batch_size). */
export function batches(bodies, size = 100) {
  const out = [];
  for (let i = 0; i < bodies.length; i += size) out.push(bodies.slice(i, i + size));
  return out;
}

export function itemsIn(body) {
  // Version-2 bodies: a JSON header line, then the raw payloads.
  const nl = body.indexOf("\n");
  return JSON.parse(nl >= 0 ? body.slice(0, nl) : body).items.length;
}
