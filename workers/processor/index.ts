// Processor worker entry: the handler table. Ingest queues → processBatch; the dead-letter queue →
// recordDeadLetters; the cron → retention, and relinking user feedback to its group.
import { recordDeadLetters } from "./dead-letters";
import { relinkFeedback } from "./group-workflow";
import { processBatch } from "./process-batch";
import { runRetention } from "./retention";

export default {
  async queue(batch, env) {
    if (batch.queue === "sluice-dlq") return recordDeadLetters(batch, env);
    const m = await processBatch(batch, env);
    // One line per batch for Workers Logs: ids and counts only, never payloads or keys.
    console.log(
      JSON.stringify({
        msg: "batch",
        queue: batch.queue,
        batchId: m.batchId,
        messages: m.messages,
        items: m.items,
        stored: m.stored,
        deadLettered: m.deadLettered,
        retried: m.retried,
        d1RowsWritten: m.d1RowsWritten,
        projects: m.storedByProject,
      }),
    );
  },
  async scheduled(_controller, env) {
    // Both jobs run to their end whatever the other does. Retention goes on past a failing step
    // (retention.ts logs each one); the invocation then fails, so the failure shows in the cron's
    // outcome (Workers Logs, Cron Events) and not only in a log line.
    const [retention] = await Promise.all([
      runRetention(env).then(
        (report) => {
          console.log(JSON.stringify({ msg: "retention", ...report }));
          return report.errors;
        },
        (err: unknown) => [String((err as Error)?.message ?? err)],
      ),
      relinkFeedback(env).catch((err) =>
        console.warn(JSON.stringify({ msg: "feedback relink failed", error: String(err) })),
      ),
    ]);
    if (retention.length > 0)
      throw new Error(
        `retention: ${retention.length} step(s) failed: ${retention.join("; ").slice(0, 1000)}`,
      );
  },
} satisfies ExportedHandler<ProcessorEnv>;
