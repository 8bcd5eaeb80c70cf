// How long a queue can still deliver (or redeliver) a message after it was sent: Cloudflare Queues
// keep an unconsumed message for 4 days by default (the retention this deployment configures).
// The ledger of applied messages (retention.ts) and the orphan sweep's in-flight window for claim
// checks and attachments (orphan-sweep.ts) both rest on this one fact.
export const QUEUE_RETENTION_DAYS = 4;
export const QUEUE_RETENTION_MS = QUEUE_RETENTION_DAYS * 86_400_000;
