// Polling for asynchronous results (queues deliver later), shared by the workerd and Node suites.

/** Polls `check` every `intervalMs` until it returns a truthy value; errors count as "not yet". */
export async function poll<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  intervalMs: number,
  what = "condition",
): Promise<T> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}
