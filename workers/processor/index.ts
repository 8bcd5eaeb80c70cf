// Processor worker entry: the handler table. Ingest queues → processBatch; the dead-letter queue →
// recordDeadLetters.
import { recordDeadLetters } from "./dead-letters";
import { processBatch } from "./process-batch";

export default {
  async queue(batch, env) {
    if (batch.queue === "sluice-dlq") return recordDeadLetters(batch, env);
    await processBatch(batch, env);
  },
} satisfies ExportedHandler<ProcessorEnv>;
