// Quota Durable Object costs per report (section 1): the real edge in-process with the real
// QuotaCounter over counting storage (fakes.mjs), once per quota mode.
import { ctx, fakeEdgeEnv, newStats, quotaNamespace } from "./fakes.mjs";

const r = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Durable Object requests and storage rows per report, counted on the real QuotaCounter: once with
 * spike protection on (the default: the isolate syncs at most once a second in the background) and
 * once with a per-minute limit (exact: one request per ingestion request). The counter history is
 * seeded high so that neither limits the run.
 */
export async function quotaCosts(lib, request, bytes, n) {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const history = {};
  for (let i = 1; i <= 1440; i++) history[String(now - i * 60_000)] = 1_000_000;
  const out = {};
  // The exact limit asks the object on every request: fewer requests tell the same per-event count.
  for (const [mode, settings, reports] of [
    ["spikeProtection", { spikeProtection: true }, n],
    ["perMinuteLimit", { spikeProtection: true, rateLimitPerMinute: 100_000_000 }, Math.ceil(n / 10)],
  ]) {
    const counts = { requests: 0, rowsRead: 0, rowsWritten: 0, ms: 0 };
    const env = fakeEdgeEnv(newStats(), {
      settings: JSON.stringify(settings),
      quota: quotaNamespace(lib, counts, history),
    });
    lib.clearProjectCache();
    const t0 = performance.now();
    for (let i = 0; i < reports; i++) {
      const res = await lib.app.fetch(request(bytes), env, ctx);
      if (res.status !== 202) throw new Error(`quota run (${mode}): edge answered ${res.status}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 20)); // background syncs settle
    out[mode] = {
      reports,
      seconds: r(seconds, 3),
      doRequestsPerEvent: r(counts.requests / reports, 6),
      doRowsReadPerEvent: r(counts.rowsRead / reports, 6),
      doRowsWrittenPerEvent: r(counts.rowsWritten / reports, 6),
      doMsPerRequest: counts.requests ? r(counts.ms / counts.requests, 4) : 0,
    };
  }
  lib.clearProjectCache();
  return out;
}
