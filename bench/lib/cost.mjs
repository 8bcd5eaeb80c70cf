// Section 5: USD per million events from counted operations per event at Cloudflare list prices
// (../shared/reference/cloudflare-platform.md), next to a naive one-object-and-one-row-per-event
// design. Paid-plan prices beyond the included allowances; the $5/month minimum, free allowances
// and storage (GB-month, not per operation) are left out and said so.

export const PRICES = {
  workersRequestPerM: 0.3,
  workersCpuMsPerM: 0.02,
  queueOpPerM: 0.4,
  r2ClassAPerM: 4.5,
  r2ClassBPerM: 0.36,
  d1RowWrittenPerM: 1.0,
  d1RowReadPerM: 0.001,
};

const r = (x, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

function price(ops) {
  const lines = [
    ["Workers requests", ops.requests, PRICES.workersRequestPerM],
    ["Workers CPU ms", ops.cpuMs, PRICES.workersCpuMsPerM],
    ["Queue operations", ops.queueOps, PRICES.queueOpPerM],
    ["R2 class A (writes)", ops.r2ClassA, PRICES.r2ClassAPerM],
    ["R2 class B (reads)", ops.r2ClassB, PRICES.r2ClassBPerM],
    ["D1 rows written", ops.d1RowsWritten, PRICES.d1RowWrittenPerM],
    ["D1 rows read", ops.d1RowsRead, PRICES.d1RowReadPerM],
  ].map(([item, perEvent, usdPerM]) => ({
    item,
    perEvent: r(perEvent, 5),
    usdPerM,
    usdPerMillionEvents: r(perEvent * usdPerM, 4),
  }));
  return {
    lines,
    total: r(
      lines.reduce((a, l) => a + l.usdPerMillionEvents, 0),
      3,
    ),
  };
}

/**
 * @param edge section 1 result; @param proc section 3 result.
 * Per event: the edge request (one report per request: the common SDK case), the edge's CPU
 * (in-process µs per report), queue ops of the message carrying it (3 per 64 KB, shared by the
 * events packed in it), the processor's invocation (one per batch), its time per event (local wall
 * time: an upper bound for CPU), R2 writes, D1 rows written/read as D1 reported them, and the index
 * queue messages the processor sends (write+read+delete each, 2 × 64 KB chunks at ~100 KB).
 */
export function costModel(edge, proc) {
  const out = {};
  for (const [kind, queue, edgeUs, eventsPerRequest] of [
    ["errors", "sluice-errors-0", edge.usPerReport, 1],
    ["rum", "sluice-rum-0", edge.rum.usPerRequest, edge.rum.itemsPerRequest],
  ]) {
    const q = proc.perQueue[queue];
    if (!q) continue;
    const batchEvents = 100 * q.eventsPerMessage;
    const queueOpsPerMessage = edge.perReport.queueOps / Math.max(1e-9, edge.perReport.queueMessages);
    const sluice = {
      requests: 1 / eventsPerRequest + 1 / batchEvents + q.indexMessagesPerEvent,
      cpuMs: edgeUs / 1000 / eventsPerRequest + q.msPerEvent,
      queueOps: queueOpsPerMessage / q.eventsPerMessage + q.indexMessagesPerEvent * 6,
      r2ClassA: q.r2WritesPerEvent,
      r2ClassB: 0,
      d1RowsWritten: q.d1RowsWrittenPerEvent,
      d1RowsRead: q.d1RowsReadPerEvent,
    };
    // Naive: one R2 object and one D1 event row (+ its 2 index entries, which D1 bills as rows) per
    // event, one aggregate-row update per event, one message per event, the same CPU.
    const naive = {
      ...sluice,
      queueOps: 3 + q.indexMessagesPerEvent * 6,
      requests: 1 / eventsPerRequest + 1 / 100 + q.indexMessagesPerEvent,
      r2ClassA: 1,
      d1RowsWritten: 4,
      d1RowsRead: 1,
    };
    out[kind] = { sluice: price(sluice), naive: price(naive) };
  }
  return {
    usdPerMillionErrors: out.errors?.sluice.total ?? null,
    usdPerMillionRum: out.rum?.sluice.total ?? null,
    naiveUsdPerMillionErrors: out.errors?.naive.total ?? null,
    naiveUsdPerMillionRum: out.rum?.naive.total ?? null,
    prices: PRICES,
    detail: out,
    excluded:
      "Elasticsearch; the $5/month plan minimum and included allowances; R2/D1 storage (GB-month); indexer CPU (FTS/ES writer) beyond its invocation count; egress (free).",
  };
}
