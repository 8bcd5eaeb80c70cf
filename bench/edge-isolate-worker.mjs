// Bench worker (bundled for workerd by bench/lib/edge-isolate.mjs and run by Miniflare): the REAL
// edge app called in-process inside workerd, the runtime it is deployed on, with the same in-memory
// binding fakes as the Node section. The Request objects are workerd's own (native body delivery),
// built before each timed block; blocks of edge calls are interleaved with blocks of JSON.parse of
// the same text, a no-op Hono route that reads the body, and the body read alone.
//   POST /run  {text, headers, rounds, block, blocks, warmup} → per-round µs per call of each
import { Hono } from "hono";
import { app } from "../workers/edge/app";
import { ctx, fakeEdgeEnv, newStats } from "./lib/fakes.mjs";
import { median } from "./lib/stats.mjs";

const ORIGIN = "https://ingest.sluice.test";
let sink = 0;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * µs per call: `blocks` blocks of `block` calls, each timed as a whole. workerd's clock has a
 * coarse resolution (1 ms here), so a block is long (tens of ms) and the figure is the median block.
 */
async function timeBlocks(prepare, run, block, blocks) {
  const per = [];
  for (let b = 0; b < blocks; b++) {
    const inputs = prepare(block);
    const t0 = performance.now();
    for (let i = 0; i < block; i++) await run(inputs[i]);
    per.push(((performance.now() - t0) * 1000) / block);
  }
  return median(per);
}

async function run(cfg) {
  const stats = newStats();
  const env = fakeEdgeEnv(stats);
  const bytes = new TextEncoder().encode(cfg.text);
  const request = () =>
    new Request(`${ORIGIN}/entries`, { method: "POST", headers: cfg.headers, body: bytes });
  const many = (n) => Array.from({ length: n }, request);
  const first = await app.fetch(request(), env, ctx);
  if (first.status !== 202) throw new Error(`edge answered ${first.status}: ${await first.text()}`);
  const noop = new Hono().post("/entries", async (c) => {
    await c.req.arrayBuffer();
    return c.body(null, 202);
  });
  const edgeCall = async (req) => {
    const res = await app.fetch(req, env, ctx);
    if (res.status !== 202) throw new Error(`edge answered ${res.status}`);
  };
  // Warm-up (JIT, the project cache), not timed.
  for (let i = 0; i < cfg.warmup; i++) await edgeCall(request());
  const messages0 = stats.messages;
  let edgeCalls = 0;
  const rounds = { edgeUs: [], jsonParseUs: [], bodyReadUs: [], floorUs: [], honoNoopUs: [] };
  for (let r = 0; r < cfg.rounds; r++) {
    rounds.edgeUs.push(
      await timeBlocks(
        many,
        async (req) => {
          await edgeCall(req);
          edgeCalls++;
        },
        cfg.block,
        cfg.blocks,
      ),
    );
    rounds.jsonParseUs.push(
      await timeBlocks(
        (n) => Array.from({ length: n }, () => cfg.text),
        async (t) => {
          sink += JSON.parse(t).details ? 1 : 0;
        },
        cfg.block,
        cfg.blocks,
      ),
    );
    rounds.bodyReadUs.push(
      await timeBlocks(
        many,
        async (req) => {
          sink += (await req.arrayBuffer()).byteLength;
        },
        cfg.block,
        cfg.blocks,
      ),
    );
    // The least an edge that answers 400 to a malformed report must do: read, strict decode, parse.
    rounds.floorUs.push(
      await timeBlocks(
        many,
        async (req) => {
          sink += JSON.parse(strictUtf8.decode(await req.arrayBuffer())).details ? 1 : 0;
        },
        cfg.block,
        cfg.blocks,
      ),
    );
    rounds.honoNoopUs.push(
      await timeBlocks(
        many,
        async (req) => {
          sink += (await noop.fetch(req, env, ctx)).status;
        },
        cfg.block,
        cfg.blocks,
      ),
    );
  }
  if (stats.messages - messages0 !== edgeCalls) {
    throw new Error(`${edgeCalls} reports made ${stats.messages - messages0} queue messages, not one each`);
  }
  return { rounds, otherSql: [...stats.otherSql], sink: sink % 2 };
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/run")
      return new Response("not found", { status: 404 });
    try {
      return Response.json(await run(await request.json()));
    } catch (err) {
      return new Response(String(err?.stack ?? err), { status: 500 });
    }
  },
};
