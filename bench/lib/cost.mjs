// Section 5: USD per million events at Cloudflare list prices, from operations counted in ONE run
// (../shared/reference/cloudflare-platform.md and Cloudflare's pricing pages). Every term is a count
// from sections 1 and 3 times a price: nothing per event is assumed here. Shown as a curve over
// events per queue message, for both search configurations (Elasticsearch: its hosting excluded;
// the embedded D1 FTS5 index: its rows included). Paid-plan prices beyond the included allowances.

export const PRICES = {
  workersRequestPerM: 0.3,
  workersCpuMsPerM: 0.02,
  queueOpPerM: 0.4,
  doRequestPerM: 0.15,
  doGbSecondPerM: 12.5,
  doRowReadPerM: 0.001,
  doRowWrittenPerM: 1.0,
  r2ClassAPerM: 4.5,
  r2ClassBPerM: 0.36,
  r2GbMonth: 0.015,
  d1RowWrittenPerM: 1.0,
  d1RowReadPerM: 0.001,
  d1GbMonth: 0.75,
};

/** Memory a Durable Object is billed for while active (Cloudflare bills 128 MB per object). */
const DO_GB = 0.128;
const GB = 1e9;

const r = (x, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * D1 bytes a run's events leave behind: the larger of the database file's growth and the bytes of
 * the rows the run added (a fold frees pages that later rows fill, so growth alone can read 0).
 */
export const d1HeldBytesPerEvent = (run, q) =>
  Object.keys(run.perQueue ?? {}).length > 1 && q?.d1RowBytesPerEvent != null
    ? // A run of several queues: the file's growth mixes them; the queue's own rows are its share.
      q.d1RowBytesPerEvent
    : Math.max(run.d1BytesPerEvent ?? 0, q?.d1RowBytesPerEvent ?? run.d1RowBytesPerEvent ?? 0);

/** Of the bytes held, the message ledger's: the queue's own share when the run measured it. */
export const d1LedgerBytesPerEvent = (run, q) => q?.d1LedgerBytesPerEvent ?? run.d1LedgerBytesPerEvent ?? 0;

/** Prices per-event operation counts: every line is count × USD per million (or per unit). */
export function price(ops) {
  const lines = [
    ["Workers requests (edge, processor, indexer)", ops.requests, PRICES.workersRequestPerM],
    ["Workers CPU ms", ops.cpuMs, PRICES.workersCpuMsPerM],
    ["Queue operations (per 64 KB written, read, deleted)", ops.queueOps, PRICES.queueOpPerM],
    ["Durable Object requests (quota)", ops.doRequests, PRICES.doRequestPerM],
    ["Durable Object GB-s", ops.doGbSeconds, PRICES.doGbSecondPerM],
    ["Durable Object rows read", ops.doRowsRead, PRICES.doRowReadPerM],
    ["Durable Object rows written", ops.doRowsWritten, PRICES.doRowWrittenPerM],
    ["D1 rows written (indexes and FTS included)", ops.d1RowsWritten, PRICES.d1RowWrittenPerM],
    ["D1 rows read", ops.d1RowsRead, PRICES.d1RowReadPerM],
    [
      `D1 rows deleted by retention (billed as written)${ops.retentionMeasured ? "" : ": NOT MEASURED"}`,
      ops.d1RowsDeleted,
      PRICES.d1RowWrittenPerM,
    ],
    ["D1 rows read by retention", ops.d1RowsReadByRetention, PRICES.d1RowReadPerM],
    [
      "D1 storage over retention (KB-months per event; price per GB-month)",
      ops.d1GbMonths * 1e6,
      PRICES.d1GbMonth,
    ],
    ["R2 class A (writes)", ops.r2ClassA, PRICES.r2ClassAPerM],
    ["R2 class B (reads)", ops.r2ClassB, PRICES.r2ClassBPerM],
    ["R2 class A by retention (lists; deletes are free)", ops.r2ClassAByRetention, PRICES.r2ClassAPerM],
    [
      "R2 storage over retention (KB-months per event; price per GB-month)",
      ops.r2GbMonths * 1e6,
      PRICES.r2GbMonth,
    ],
  ].map(([item, perEvent, usdPerM]) => ({
    item,
    perEvent: r(perEvent, 7),
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
 * Operations per event of one queue kind in one processor run.
 * @param edge section 1 (in-process edge: µs per request, quota Durable Object counts)
 * @param q    one queue's figures from section 3 (processor + indexer, as D1/R2/queues counted them)
 * @param run  the processor run (segment and database bytes, edge claim-check puts)
 */
export function opsPerEvent(edge, q, run, { kind, retentionDays, ledgerDays = 0 }) {
  const perRequest = kind === "rum" ? edge.rum.itemsPerRequest : 1;
  const edgeUs = kind === "rum" ? edge.rum.usPerRequest : edge.usPerReport;
  const dq = edge.quota?.spikeProtection ?? {
    doRequestsPerEvent: 0,
    doRowsReadPerEvent: 0,
    doRowsWrittenPerEvent: 0,
  };
  const months = retentionDays / 30;
  return {
    requests: 1 / perRequest + q.processorInvocationsPerEvent + q.indexer.invocationsPerEvent,
    cpuMs: edgeUs / 1000 / perRequest + q.cpuMsPerEvent + q.indexer.cpuMsPerEvent,
    queueOps: q.queueOpsPerEvent + q.indexer.queueOpsPerEvent,
    doRequests: dq.doRequestsPerEvent,
    doGbSeconds: (dq.doRequestsPerEvent * (dq.doMsPerRequest ?? 0) * DO_GB) / 1000,
    doRowsRead: dq.doRowsReadPerEvent,
    doRowsWritten: dq.doRowsWrittenPerEvent,
    d1RowsWritten: q.d1RowsWrittenPerEvent + q.indexer.d1RowsWrittenPerEvent,
    d1RowsRead: q.d1RowsReadPerEvent + q.indexer.d1RowsReadPerEvent,
    // The ledger's rows go once the queue can no longer redeliver; every other byte stays for the
    // data's retention (b-tree overhead of the ledger included: counted at the longer time).
    d1GbMonths:
      (Math.max(0, d1HeldBytesPerEvent(run, q) - d1LedgerBytesPerEvent(run, q)) / GB) * months +
      (d1LedgerBytesPerEvent(run, q) / GB) * (ledgerDays / 30),
    r2ClassA: q.r2WritesPerEvent + (run.edge?.r2PutsPerEvent ?? 0),
    r2ClassB: q.r2ReadsPerEvent,
    // Deleting what the run wrote, once its retention passed (processor.mjs: the cron run to the end).
    retentionMeasured: run.retention != null,
    d1RowsDeleted: run.retention?.d1RowsWrittenPerEvent ?? 0,
    d1RowsReadByRetention: run.retention?.d1RowsReadPerEvent ?? 0,
    r2ClassAByRetention: run.retention?.r2ClassAPerEvent ?? 0,
    r2GbMonths: ((q.r2BytesPerEvent ?? 0) / GB) * months,
  };
}

/**
 * @param edge section 1; @param main the main processor run (mixed sizes, what the load achieved);
 * @param curve processor runs of 5 KB error events alone at 1, 2, 4, 8, 16 clients in flight, per
 * search configuration.
 */
export function costModel(edge, main, curve, { retentionDays, ledgerDays }) {
  const points = [];
  const runs = [...curve.map((run) => ({ run, sizes: "5 KB" })), { run: main, sizes: "mixed" }];
  for (const { run, sizes } of runs) {
    const q = run?.perQueue?.["sluice-errors-0"];
    if (!q) continue;
    const cost = price(opsPerEvent(edge, q, run, { kind: "errors", retentionDays, ledgerDays }));
    points.push({
      search: run.search,
      sizes,
      clientsInFlight: run.clientsInFlight,
      eventsPerMessage: q.eventsPerMessage,
      usdPerMillion: cost.total,
      lines: cost.lines,
    });
  }
  const detail = {};
  for (const [kind, queue] of [
    ["errors", "sluice-errors-0"],
    ["rum", "sluice-rum-0"],
  ]) {
    const q = main?.perQueue?.[queue];
    if (q) detail[kind] = price(opsPerEvent(edge, q, main, { kind, retentionDays, ledgerDays }));
  }
  // The budget holds "at 4 events per message or more": the WORST Elasticsearch point there.
  const budgetPoint = points
    .filter((p) => p.search === "es" && p.eventsPerMessage >= 4)
    .sort((a, b) => b.usdPerMillion - a.usdPerMillion)[0];
  return {
    usdPerMillionErrors: budgetPoint?.usdPerMillion ?? null,
    budgetPoint: budgetPoint
      ? {
          search: "es",
          sizes: budgetPoint.sizes,
          clientsInFlight: budgetPoint.clientsInFlight,
          eventsPerMessage: budgetPoint.eventsPerMessage,
        }
      : null,
    mainSearch: main?.search ?? null,
    usdPerMillionErrorsMainRun: detail.errors?.total ?? null,
    usdPerMillionRum: detail.rum?.total ?? null,
    retentionDays,
    ledgerDays,
    prices: PRICES,
    curve: points,
    detail,
    excluded:
      "Elasticsearch hosting (the es configuration); the $5/month plan minimum and included allowances; console reads (they follow page views, not events); egress (free). Durable Object GB-s count only the measured time inside each quota request (in-memory storage here).",
  };
}
