// Bundled for Node by the bench harness: the REAL product modules the in-process benchmarks use.
// Nothing here re-implements product logic; it only re-exports it.

export { FOLD_DEFAULT_MS, FOLD_MAX_PENDING } from "../shared/db/group-fold";
export { computeFingerprint, groupIdFor } from "../shared/grouping/fingerprint";
export { normalizeRaygunReport } from "../shared/raygun/normalize";
export { fixtureBytes, fixtures } from "../shared/sentry/fixtures/index";
export { DEFAULT_SETTINGS } from "../shared/settings";
export { app } from "../workers/edge/app";
export { enqueue } from "../workers/edge/enqueue";
export { clearProjectCache } from "../workers/edge/project-cache";
export { QuotaCounter } from "../workers/edge/quota-counter";
export { PREPARERS } from "../workers/processor/prepare";
export { processBatch } from "../workers/processor/process-batch";
export { QUEUE_RETENTION_DAYS } from "../workers/processor/queue-retention";
