// The budgets `npm run bench` checks (../shared/DESIGN.md and issue #11), in one table that the JSON
// result and BENCHMARKS.md both use. A figure that was not measured (section skipped, or the run
// was not in the configuration a budget is about) has pass = null, never a verdict.

export const BUDGETS = [
  ["edge.costVsJsonParse", (r) => r.edge?.costVsJsonParse, "≤", 2, "× JSON.parse"],
  ["edge.reportsPerSecondPerCore", (r) => r.edge?.reportsPerSecondPerCore, "≥", 20000, "reports/s"],
  ["edge.workerdVsEmptyWorker (goal)", (r) => r.edge?.workerdVsEmptyWorker, "≥", 0.8, "× empty worker"],
  ["processor.eventsPerSecond (errors)", (r) => r.processor?.eventsPerSecond, "≥", 5000, "events/s"],
  ["processor.costVsJsonParse (errors)", (r) => r.processor?.costVsJsonParse, "≤", 12, "× JSON.parse"],
  ["processor.r2WritesPerEvent (errors)", (r) => r.processor?.r2WritesPerEvent, "≤", 0.02, ""],
  [
    "processor.d1RowsWrittenPerEvent (errors, es)",
    (r) => (r.processor?.search === "es" ? r.processor.d1RowsWrittenPerEvent : null),
    "≤",
    0.3,
    "",
  ],
  ["processor.peakMB (heap + external)", (r) => r.processor?.peakHeapMB, "≤", 32, "MB"],
  ["shards.maxOverMean", (r) => r.shards?.maxOverMean, "≤", 1.3, ""],
  ["shards.lostOrDoubled", (r) => (r.shards ? Math.abs(r.shards.lost) : null), "≤", 0, "events"],
  [
    "pipelineShards.maxOverMean (queue and metadata shards)",
    (r) =>
      r.pipelineShards?.verdict
        ? Math.max(r.pipelineShards.queueMaxOverMean, r.pipelineShards.metadataMaxOverMean)
        : null,
    "≤",
    1.3,
    "",
  ],
  [
    "pipelineShards.lostDoubledOrMisplaced",
    (r) =>
      r.pipelineShards?.verdict
        ? r.pipelineShards.lost + r.pipelineShards.doubled + r.pipelineShards.misplaced
        : null,
    "≤",
    0,
    "events",
  ],
  ["console.p95Ms (large project)", (r) => r.console?.budgetP95Ms ?? r.console?.worstP95Ms, "≤", 50, "ms"],
  [
    "console.p95Ms (2,000 events)",
    (r) => r.console?.budgetP95MsSmall ?? r.console?.worstP95MsSmall,
    "≤",
    50,
    "ms",
  ],
  ["e2e.eventsPerSecond", (r) => r.e2e?.eventsPerSecond, "≥", 1000, "events/s"],
  ["alerts.newIssueP95Ms", (r) => r.alerts?.newIssueP95Ms, "≤", 5000, "ms"],
  ["sourcemaps.ratio (symbolicated / not, maps cached)", (r) => r.sourcemaps?.ratio, "≥", 0.5, "×"],
  ["cost.usdPerMillionErrors (es, ≥ 4/message)", (r) => r.cost?.usdPerMillionErrors, "≤", 1, "USD"],
];

export function budgets(r) {
  return BUDGETS.map(([name, get, op, limit, unit]) => {
    const value = get(r) ?? null;
    return {
      name,
      value,
      budget: `${op} ${limit}${unit ? ` ${unit}` : ""}`,
      pass: value == null ? null : op === "≤" ? value <= limit : value >= limit,
    };
  });
}
