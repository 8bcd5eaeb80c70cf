// The test worker: routes fetches like the deployed edge (ingestion → edge, the rest → console)
// and queue batches to the consumer that owns each queue in production.
import console from "../workers/console/index";
import edge from "../workers/edge/index";
import indexer from "../workers/indexer/index";
import processor from "../workers/processor/index";

type Env = Cloudflare.Env;

export default {
  async fetch(request, env, ctx) {
    const res = await edge.fetch(request, { ...env, CONSOLE: { fetch: (r: Request) => console.fetch(r, env, ctx) } } as never, ctx);
    return res;
  },
  async queue(batch, env, ctx) {
    if (batch.queue === "sluice-index") return indexer.queue(batch as never, env as never, ctx);
    return processor.queue(batch as never, env as never, ctx);
  },
} satisfies ExportedHandler<Env>;
