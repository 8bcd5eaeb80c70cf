// The test worker: one workerd worker holding every stage, routed as in production: fetches go
// to the edge (whose CONSOLE binding reaches the console handler), queue batches go to the worker
// that consumes that queue in production. Tests drive it through real local Queues, D1 and R2.
import alerter from "../workers/alerter/index";
import consoleWorker from "../workers/console/index";
import edge from "../workers/edge/index";
import indexer from "../workers/indexer/index";
import processor from "../workers/processor/index";

export { QuotaCounter } from "../workers/edge/quota-counter";

type Env = Cloudflare.Env;

export default {
  fetch(request, env, ctx) {
    const consoleBinding = { fetch: (r: Request) => consoleWorker.fetch(r, env as never, ctx) };
    return edge.fetch(request, { ...env, CONSOLE: consoleBinding } as never, ctx);
  },
  async queue(batch, env, ctx) {
    if (batch.queue === "sluice-index") return indexer.queue!(batch as never, env as never, ctx);
    if (batch.queue === "sluice-alerts") return alerter.queue(batch as never, env as never);
    return processor.queue(batch as never, env as never);
  },
} satisfies ExportedHandler<Env>;
