// Quota Durable Object costs per report (section 1): the real edge in-process with the real
// QuotaCounter over counting storage (fakes.mjs), once per quota mode.
import { ctx, fakeEdgeEnv, newStats, quotaNamespace } from "./fakes.mjs";

const r = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Durable Object requests and storage rows per report, counted on the real QuotaCounter: once with
 * spike protection on (the default: the isolate syncs at most once a second in the background) and
 * once with a per-minute limit (the isolate takes leases of about 500 ms of its own traffic once it is
 * busy, so that run lasts a few seconds: long enough to see the steady state, not only the ramp of
 * the first second). The counter history is seeded high so that neither limits the run.
 */
export async function quotaCosts(lib, request, bytes, n) {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const history = {};
  for (let i = 1; i <= 1440; i++) history[String(now - i * 60_000)] = 1_000_000;
  const out = {};
  for (const [mode, settings, reports, minSeconds] of [
    ["spikeProtection", { spikeProtection: true }, n, 0],
    ["perMinuteLimit", { spikeProtection: true, rateLimitPerMinute: 100_000_000 }, n, 3],
  ]) {
    const counts = { requests: 0, rowsRead: 0, rowsWritten: 0, ms: 0 };
    const env = fakeEdgeEnv(newStats(), {
      settings: JSON.stringify(settings),
      quota: quotaNamespace(lib, counts, history),
    });
    lib.clearProjectCache();
    const t0 = performance.now();
    let sent = 0;
    while (sent < reports || performance.now() - t0 < minSeconds * 1000) {
      const res = await lib.app.fetch(request(bytes), env, ctx);
      if (res.status !== 202) throw new Error(`quota run (${mode}): edge answered ${res.status}`);
      sent++;
    }
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 20)); // background syncs settle
    out[mode] = {
      reports: sent,
      seconds: r(seconds, 3),
      doRequestsPerEvent: r(counts.requests / sent, 6),
      // One isolate's requests to the object per second at the rate it ran (what a lease bounds).
      doRequestsPerSecond: r(counts.requests / seconds, 2),
      doRowsReadPerEvent: r(counts.rowsRead / sent, 6),
      doRowsWrittenPerEvent: r(counts.rowsWritten / sent, 6),
      doMsPerRequest: counts.requests ? r(counts.ms / counts.requests, 4) : 0,
    };
  }
  lib.clearProjectCache();
  return out;
}
