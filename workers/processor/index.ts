// Processor worker entry: the handler table. Ingest queues → processBatch; the dead-letter queue →
// recordDeadLetters; the cron → retention.
import { recordDeadLetters } from "./dead-letters";
import { processBatch } from "./process-batch";
import { runRetention } from "./retention";

export default {
  async queue(batch, env) {
    if (batch.queue === "sluice-dlq") return recordDeadLetters(batch, env);
    await processBatch(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      runRetention(env).then((report) => console.log(JSON.stringify({ msg: "retention", ...report }))),
    );
  },
} satisfies ExportedHandler<ProcessorEnv>;
