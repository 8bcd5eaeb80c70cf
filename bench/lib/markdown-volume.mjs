// BENCHMARKS.md sections about volume: the processor (error events; RUM beside), queue shards, the
// cost model and the capacity plan. Every figure comes from the run's JSON; the only numbers
// written here are the budgets' limits (bench/lib/budgets.mjs) and the capacity plan's input rate.
import { measuredMix, plan } from "../../scripts/capacity.mjs";

export const v = (x) => (x == null ? "—" : typeof x === "number" ? x.toLocaleString("en-US") : String(x));
export const verdict = (p) => (p == null ? "n/a" : p ? "**pass**" : "**FAIL**");
const pc = (n, total) => (total ? `${Math.round((100 * n) / total)} %` : "—");
const notMeasured = (x, why = "section skipped") =>
  `Not measured: ${x?.skipped ? `skipped (${x.skipped})` : (x?.error ?? why)}`;

/** The DESIGN's Raygun load (100 M API calls an hour), the plan's example input. */
const RAYGUN_RATE = 28000;

export function processorSection(r, budget) {
  const p = r.processor;
  const L = ["## 3. Processor (`npm run bench:processor`)", ""];
  if (!p || p.error || p.skipped) return [...L, notMeasured(p), ""];
  const errorsTotal = p.mix.raygunNode + p.mix.raygunJs + p.mix.sentryNode + p.mix.sentryPython;
  const e = p.perQueue["sluice-errors-0"];
  const rum = p.perQueue["sluice-rum-0"];
  const sz = p.raygunReportBytes;
  L.push(
    `Method: ${p.method}. Search configuration: **${p.search === "es" ? "Elasticsearch" : "D1 FTS5 (embedded)"}**; every index`,
    "message the processor sent was run through the real indexer (`handleIndexBatch`) and counted with it.",
    "",
    `Traffic (deterministic, seed ${p.seed}), produced by the REAL edge (in-process) so message bodies are exactly what \`enqueue\``,
    `sends: ${v(errorsTotal)} error events = raygun4node-shaped ${v(p.mix.raygunNode)} (${pc(p.mix.raygunNode, errorsTotal)}),`,
    `raygun4js-shaped ${v(p.mix.raygunJs)} (${pc(p.mix.raygunJs, errorsTotal)}), Sentry node envelopes ${v(p.mix.sentryNode)} (${pc(p.mix.sentryNode, errorsTotal)}),`,
    `Sentry python envelopes ${v(p.mix.sentryPython)} (${pc(p.mix.sentryPython, errorsTotal)}); Raygun reports of ${v(sz?.min)}–${v(sz?.max)} B (median ${v(sz?.median)} B,`,
    `p90 ${v(sz?.p90)} B); ${p.mixRule.groups} error groups drawn Zipf(${p.mixRule.zipfS}); beside them ${v(p.mix.rum)} RUM page views in`,
    `batches of 1–5. ${p.clientsInFlight} clients in flight at the edge, so group commit packed ${e?.eventsPerMessage ?? "—"} error events per`,
    `message (RUM: ${rum?.eventsPerMessage ?? "—"}${p.mix.sessions ? `; ${v(p.mix.sessions)} Sentry session updates, the telemetry queue's traffic: ${p.perQueue["sluice-telemetry-0"]?.eventsPerMessage ?? "—"}` : ""}). Batches of 100 messages; one warm-up batch per queue not counted.`,
    "",
    "**Error events** (the budgets):",
    "",
    "| figure | value | budget | verdict |",
    "|---|---|---|---|",
    `| events/s (in-worker processBatch time) | ${v(p.eventsPerSecond)} | ${budget("processor.eventsPerSecond (errors)")} |`,
    `| processor ms per event / \`JSON.parse\` ms of the same payloads (same workerd, same run) | ${v(e?.msPerEvent)} / ${v(e?.parseMsPerEvent)} → **${v(p.costVsJsonParse)}×** | ${budget("processor.costVsJsonParse (errors)")} |`,
    `| R2 writes per event | ${v(p.r2WritesPerEvent)} | ${budget("processor.r2WritesPerEvent (errors)")} |`,
    `| D1 rows written per event (processor + indexer, D1's own \`meta\`) | ${v(p.d1RowsWrittenPerEvent)} | ${budget("processor.d1RowsWrittenPerEvent (errors, es)")} |`,
    `| peak memory per 100-message batch (heap + external, ArrayBuffers included) | ${v(p.peakHeapMB)} MB | ${budget("processor.peakMB (heap + external)")} |`,
    `| D1 rows read per event | ${v(p.d1RowsReadPerEvent)} | | |`,
    `| D1 rows retention writes deleting it all, per event (${p.retention ? `${p.retention.kinds}, ${v(p.retention.eventsWritten)} written, ${p.retention.runs} cron runs` : "not measured"}) | ${v(p.retention?.d1RowsWrittenPerEvent)} | | |`,
    `| batch p50 / p99 ms (all queues) | ${v(p.batchP50Ms)} / ${v(p.batchP99Ms)} | | |`,
    "",
    "Per queue (RUM is reported beside errors, never mixed into the budgets):",
    "",
    "| queue | events | events/msg | events/s | ms/event | CPU ms/event¹ | × JSON.parse | queue ops/event | R2 writes/event | R2 B/event | D1 rows written/event | D1 rows read/event | indexer ms/event | indexer D1 rows written/event |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...Object.entries(p.perQueue).map(
      ([q, s]) =>
        `| ${q} | ${v(s.events)} | ${s.eventsPerMessage} | ${v(s.eventsPerSecond)} | ${s.msPerEvent} | ${s.cpuMsPerEvent} | ${v(s.costVsJsonParse)} | ${s.queueOpsPerEvent} | ${s.r2WritesPerEvent} | ${v(s.r2BytesPerEvent)} | ${s.d1RowsWrittenPerEvent} | ${s.d1RowsReadPerEvent} | ${s.indexer.msPerEvent} | ${s.indexer.d1RowsWrittenPerEvent} |`,
    ),
    "",
    "¹ wall time minus the time awaiting D1, R2 and queue bindings (what Workers bill as CPU, approximately).",
    "",
    "**Where a batch's time goes** (time awaiting each binding, measured inside the worker):",
    "",
    "| part | % of processBatch time |",
    "|---|---|",
    ...Object.entries(p.timeBreakdownPct).map(([k, n]) => `| ${k} | ${n} |`),
    "",
    ...remoteLatencyRows(p.remoteLatency),
    "**D1 by statement, per event** (processor and indexer, all queues, from D1's own `meta.rows_read`, `rows_written` and `duration`: SQLite's time executing the statement, inside the batch's transaction):",
    "",
    "| statement | rows read/event | rows written/event | SQL µs/event |",
    "|---|---|---|---|",
    ...Object.entries(p.d1ByStatementPerEvent).map(
      ([k, s]) => `| \`${k}…\` | ${v(s.rowsRead)} | ${s.rowsWritten} | ${v(s.sqlUsPerEvent)} |`,
    ),
    "",
    `D1 bytes per event: database growth ${v(p.d1BytesPerEvent)} B (D1's \`meta.size_after\`, from the end of the warm-up to the end of the run; "—" when no growth: new rows filled pages a fold freed), rows added ${v(p.d1RowBytesPerEvent)} B (sum of every column's length in D1, no b-tree overhead; by table: ${
      Object.entries(p.d1RowBytesPerEventByTable ?? {})
        .map(([t, b]) => `${t} ${b}`)
        .join(", ") || "none"
    }; errors alone ${v(p.perQueue?.["sluice-errors-0"]?.d1RowBytesPerEvent)} B); the cost and the capacity plan take the larger (a run of one queue) or the queue's own rows (this mixed run). Of it the message ledger's rows ${v(p.d1LedgerBytesPerEvent)} B (counted from its rows; pruned once the queue can no longer redeliver).`,
    "",
    `Warm-up, not counted: first one event of every group the mix draws (${v(p.newGroups?.groups)} groups, ${v(p.newGroups?.d1RowsWrittenPerGroup)} D1 rows written per new group: its row, facets, its first fold), so the run measures a project whose groups exist; then ${v(p.foldCycleWarmUp?.batches)} batches of the same traffic until the processor folded its group deltas (${p.foldCycleWarmUp?.folded ? "it did" : "it did not"}), so the pages the deltas cycle through (freed by each fold, reused by the next) are in the base: they are a working set per shard, not data held per event. Group counts wait in \`group_deltas\` (one row per batch) and are folded every ${v(r.foldMaxPending)} batches or ${v(r.foldAfterMs)} ms per shard, and by every reader first; the run's last deltas are folded and counted at its end.`,
    "",
  );
  if (p.heap)
    L.push(
      `Memory: ${p.heap.method} Batch: ${p.heap.batch}. Per run (MB above baseline, heap + external / heap alone / GCs seen): ${p.heap.runs
        .map((x) => `${x.peakMB} / ${x.peakHeapMB} / ${x.gcsDuringBatch}`)
        .join(
          "; ",
        )} (the first run includes JIT; the figure is the max of the others). Input message bodies: ${p.heap.runs[0]?.inputMB} MB.`,
      "",
    );
  for (const n of p.notes) L.push(`- ${n}`);
  L.push("");
  return L;
}

export function shardsSection(r, budget) {
  const s = r.shards;
  const L = ["## 3b. Queue shards", ""];
  if (!s || s.error || s.skipped) return [...L, notMeasured(s), ""];
  L.push(
    `The real edge (in-process) with \`QUEUE_SHARDS = {"errors": ${s.shards}}\` and ${s.shards} counting queue bindings, ${s.clientsInFlight} clients in flight,`,
    `${v(s.reports)} reports; every queued message decoded and its items counted.`,
    "",
    "| figure | value | budget | verdict |",
    "|---|---|---|---|",
    `| shards used | ${s.shardsUsed} of ${s.shards} | | |`,
    `| max / mean events per shard | ${s.maxOverMean} | ${budget("shards.maxOverMean")} |`,
    `| accepted (202) − events in messages | ${s.lost} | ${budget("shards.lostOrDoubled")} |`,
    "",
    `Per shard (messages / events): ${Object.entries(s.perShard)
      .map(([q, x]) => `${q} ${x.messages} / ${x.events}`)
      .join("; ")}.`,
    "",
  );
  return L;
}

/** The whole pipeline over several queue shards and several D1 metadata shards (issue #11, point 5). */
export function pipelineShardsSection(r, budget) {
  const s = r.pipelineShards;
  const L = ["## 3c. Queue shards and metadata shards, the whole pipeline", ""];
  if (!s || s.error || s.skipped) return [...L, notMeasured(s), ""];
  L.push(
    `Method: ${s.method}. ${v(s.reports)} reports from ${s.projects} projects.`,
    "",
    "| figure | value | budget | verdict |",
    "|---|---|---|---|",
    `| queue shards used | ${s.queueShardsUsed} of ${s.queueShards} | | |`,
    `| metadata shards used | ${s.metadataShardsUsed} of ${s.metadataShards} | | |`,
    `| max / mean (queue shards ${s.queueMaxOverMean}, metadata shards ${s.metadataMaxOverMean}) | ${Math.max(s.queueMaxOverMean, s.metadataMaxOverMean)} | ${budget("pipelineShards.maxOverMean (queue and metadata shards)")} |`,
    `| lost + doubled + misplaced (accepted ${v(s.accepted)}, counted ${v(s.counted)}${s.indexed != null ? `, in the event index ${v(s.indexed)}` : ""}) | ${s.lost + s.doubled + s.misplaced} | ${budget("pipelineShards.lostDoubledOrMisplaced")} |`,
    "",
    `Events per queue shard: ${s.perQueueShard.join(", ")}; per metadata shard: ${s.perMetadataShard.events.join(", ")} (D1 rows written: ${s.perMetadataShard.d1RowsWritten.join(", ")}).`,
    "",
  );
  return L;
}

export function costSection(r) {
  const c = r.cost;
  const L = ["## 5. Cost per million events (Cloudflare list prices)", ""];
  if (!c) {
    const why = r.curveSkipped ? JSON.stringify(r.curveSkipped) : "needs sections 1, 3 and the curve";
    return [...L, `Not computed (${why}).`, ""];
  }
  L.push(
    "Every term is an operation counted in this run times its list price: edge requests (one SDK request per error report;",
    "RUM requests carry several page views) and in-process CPU; processor and indexer invocations (one per batch of 100",
    "messages) and their CPU (wall time minus binding waits); queue operations by 64 KB chunk of each message actually sent",
    "(write + read + delete), ingest and index queues; the quota Durable Object's requests and storage rows counted on the",
    "real QuotaCounter with spike protection on; D1 rows written and read as D1 reported them (indexes and FTS rows",
    `included); R2 class A/B calls; R2 and D1 bytes held for the default retention (${c.retentionDays} days), except the message`,
    `ledger's rows, held until the queue can no longer redeliver (${c.ledgerDays} days). And deleting it all again: each run`,
    "ends with the processor's retention cron run, as if every retention had passed, until nothing is left; D1 bills a",
    "deleted row (and its index entries) as a row written, R2 bills its lists as class A and deletes nothing. The cron's",
    "cost with nothing to delete (cursors, probes: a run's fixed part, paid per schedule, not per event) is taken off.",
    "",
    `Prices (USD per million, storage per GB-month): ${Object.entries(c.prices)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}. Excluded: ${c.excluded}`,
    "",
    "**Curve: error events alone, by events per queue message.** The clients in flight at the edge are group-committed into",
    "shared messages; the curve runs use same-size reports (5 KB Raygun reports, Sentry fixtures) so k in flight can pack k per",
    "message, and the main run (mixed sizes, section 3) is the point the load achieved:",
    "",
    "| configuration | reports | clients in flight | events/message achieved | USD per M error events |",
    "|---|---|---|---|---|",
    ...c.curve.map(
      (p) =>
        `| ${p.search === "es" ? "Elasticsearch (hosting excluded)" : "D1 FTS5 (embedded)"} | ${p.sizes} | ${p.clientsInFlight} | ${p.eventsPerMessage} | $${p.usdPerMillion} |`,
    ),
    "",
  );
  const bp = c.budgetPoint;
  const detailOf = (search, k, sizes) =>
    c.curve.find((p) => p.search === search && p.clientsInFlight === k && p.sizes === sizes);
  const es = bp ? detailOf("es", bp.clientsInFlight, bp.sizes) : null;
  // The embedded configuration's curve may not have run the mixed load: then its fullest point,
  // beside the Elasticsearch point of the same load, so the two columns compare like with like.
  const ftsPoints = c.curve.filter((p) => p.search === "fts" && p.lines);
  const ftsSame = bp ? detailOf("fts", bp.clientsInFlight, bp.sizes) : null;
  const ftsFull = ftsPoints.reduce((a, p) => (a && a.clientsInFlight >= p.clientsInFlight ? a : p), null);
  const fts = ftsSame ?? ftsFull;
  const esLikeFts = !ftsSame && fts ? detailOf("es", fts.clientsInFlight, fts.sizes) : null;
  if (es || fts) {
    const cols = [es, esLikeFts, fts].filter(Boolean);
    const label = (p) => `${p.search}, ${p.sizes} reports`;
    L.push(
      `**What each term costs** (${cols.map((p) => `${label(p)}: ${p.eventsPerMessage} events/message`).join("; ")}):`,
      "",
      `| item | ${cols.map((p) => `${label(p)} per event | USD per M`).join(" | ")} |`,
      `|---|${cols.map(() => "---|---").join("|")}|`,
      ...cols[0].lines.map(
        (l, i) =>
          `| ${l.item} | ${cols.map((p) => `${p.lines[i].perEvent} | ${p.lines[i].usdPerMillionEvents}`).join(" | ")} |`,
      ),
      `| **total** | ${cols.map((p) => `| **$${p.usdPerMillion}**`).join(" | ")} |`,
      "",
    );
  }
  if (r.curveSkipped || r.curveErrors)
    L.push(
      `Curve points missing: ${[...Object.entries(r.curveSkipped ?? {}).map(([k, why]) => `${k}: ${why}`), ...(r.curveErrors ?? [])].join("; ")}.`,
      "",
    );
  L.push(
    `**cost.usdPerMillionErrors = ${c.usdPerMillionErrors == null ? "— (no Elasticsearch point at ≥ 4 events/message)" : `$${c.usdPerMillionErrors}`}** (the worst Elasticsearch point at 4 or more events`,
    `per message${bp ? `: ${bp.sizes} reports, ${bp.eventsPerMessage} per message` : ""}; budget ≤ $1). Main run (${c.mainSearch}, mixed traffic): errors $${v(c.usdPerMillionErrorsMainRun)}, RUM $${v(c.usdPerMillionRum)} per million.`,
    "",
  );
  return L;
}

export function capacitySection(r) {
  const L = ["## 7. Capacity plan (`npm run capacity -- --rate R`)", ""];
  let out;
  try {
    out = plan(r, {
      rate: RAYGUN_RATE,
      mix: measuredMix(r),
      retentionDays: r.retentionDays,
    });
  } catch (err) {
    return [...L, `Not computed: ${err.message}`, ""];
  }
  L.push(
    `At the DESIGN's Raygun load (${v(RAYGUN_RATE)} events/s), this run's mix, ${out.retentionDays} days of retention and ${out.headroom}× headroom,`,
    "from this run's operations per event (`npm run capacity -- --rate 28000` prints the same from `.cache/bench/last.json`):",
    "",
    "| resource | needed | capacity provisioned | use | provision |",
    "|---|---|---|---|---|",
    ...out.rows.map(
      (x) =>
        `| ${x.what} | ${v(Math.round(x.need * 100) / 100)} | ${v(x.capacity)} | ${x.utilization == null ? "—" : `${(100 * x.utilization).toFixed(1)} %`} | ${x.provision} |`,
    ),
    "",
    `Plan: queue shards ${Object.entries(out.queueShards)
      .map(([k, n]) => `${k} ${n}`)
      .join(
        ", ",
      )}; D1 metadata shards ${out.d1MetadataShards} (by queries ${out.d1ShardsBy.queries}, by size ${out.d1ShardsBy.size}).`,
    "D1 metadata shards are bindings (`DB_SHARD_<n>`): the plan's shard count is how many databases the measured rows would need.",
    "",
  );
  return L;
}

export function consoleSection(r, budget) {
  const c = r.console;
  const L = ["## 8. Console latency by project size", ""];
  if (!c || c.error || c.skipped) return [...L, notMeasured(c), ""];
  const rows = [];
  const configs = [["D1 FTS5 (embedded)", c], ...(c.es ? [["Elasticsearch", c.es]] : [])];
  for (const [name, cfg] of configs)
    for (const run of [cfg.small, cfg.large])
      for (const [label, g] of Object.entries(run.byGroup))
        rows.push(
          `| ${name} | ${v(run.stored)} | ${label} (${v(g.groupEvents)} events) | ${g.groupPage.p50Ms} / ${g.groupPage.p95Ms} | ${g.eventList.p50Ms} / ${g.eventList.p95Ms} |`,
        );
  L.push(
    `Method: ${c.method}. Fill: ${configs.map(([name, cfg]) => `${name}: ${v(cfg.small.stored)} events in ${v(cfg.small.fillSeconds)} s, ${v(cfg.large.stored)} in ${v(cfg.large.fillSeconds)} s`).join("; ")}`,
    `(${v(c.large.groups)} groups, group counts adding up to ${v(c.large.counted)}).${c.esSkipped ? ` Elasticsearch not measured: ${c.esSkipped}.` : ""}`,
    "",
    "| event index | events in project | group | group page p50 / p95 ms | event list (50) p50 / p95 ms |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "| figure | value | budget | verdict |",
    "|---|---|---|---|",
    `| worst p95 of both configurations, ${v(c.large.stored)} events | ${v(c.budgetP95Ms ?? c.worstP95Ms)} ms | ${budget("console.p95Ms (large project)")} |`,
    `| worst p95 of both configurations, ${v(c.small.stored)} events | ${v(c.budgetP95MsSmall ?? c.worstP95MsSmall)} ms | ${budget("console.p95Ms (2,000 events)")} |`,
    ...configs.map(
      ([name, cfg]) =>
        `| ${name}: worst p95 large / small, growth | ${v(cfg.worstP95Ms)} / ${v(cfg.worstP95MsSmall)} ms, ${v(cfg.growth)}× | | |`,
    ),
    "",
  );
  return L;
}

/** The latency probe (processor.mjs probeLatency): round trips a batch waits for in sequence. */
function remoteLatencyRows(l) {
  if (!l) return [];
  return [
    `**Against remote bindings** (fresh error batches, alternately as above and with ${l.addedMsPerCall} ms added before every D1, R2 and`,
    "queue call, as a network round trip would; local bindings answer in microseconds on the processor's own thread, so",
    "overlapping them saves nothing above; these batches count in no other figure):",
    "",
    "| figure | value |",
    "|---|---|",
    `| ms per batch, local / with ${l.addedMsPerCall} ms per call (${l.batches.plain} / ${l.batches.withLatency} batches, medians) | ${v(l.msPerBatch)} / ${v(l.msPerBatchWithLatency)} |`,
    `| binding calls per batch | ${v(l.bindingCallsPerBatch)} |`,
    `| round trips waited for in sequence per batch ((with − local) / ${l.addedMsPerCall} ms) | ${v(l.sequentialRoundTrips)} |`,
    "",
  ];
}
