// Alerter worker entry: the handler table. sluice-alerts (decided by the processor, or a console
// test alert) → handleAlertBatch: signed webhook / Slack deliveries with retries and a log.
import { handleAlertBatch } from "./handle-alert-batch";

export default {
  async queue(batch, env) {
    await handleAlertBatch(batch, env);
  },
} satisfies ExportedHandler<AlerterEnv>;
