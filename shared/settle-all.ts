// Waiting for several writes started side by side: every one is awaited before the first failure
// is thrown, so no write is still running when the caller decides to retry, and no rejection goes
// unheard (the processor's shard transactions, its segment PUT beside its D1 writes).

/** Awaits every one of `work` (each started already), then throws the first failure, if any. */
export async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
