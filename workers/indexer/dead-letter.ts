// Dead-letter sender for the indexer worker: poison documents go to sluice-dlq through a Q_DLQ
// producer binding. Without the binding the message is retried (and after max_retries the queue
// itself moves it to the DLQ), so nothing is dropped while the binding is missing.

import { type DeadLetter, deadLetterMessage } from "./handle-index-batch";

/**
 * @example
 * const deadLetter = deadLetterSender(env);
 */
export function deadLetterSender(env: object): DeadLetter {
  const queue = (env as { Q_DLQ?: Queue<unknown> }).Q_DLQ;
  return async function sendDeadLetter(body, reason) {
    if (!queue) {
      console.error(`indexer: no Q_DLQ binding; retrying instead of dead-lettering (${reason})`);
      throw new Error("no Q_DLQ binding");
    }
    await queue.send(deadLetterMessage(body, reason));
  };
}
