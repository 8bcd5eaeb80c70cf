// The reliability suite inside workerd (hostile input, injected faults, security), against the same
// pipeline test worker as vitest.workers.config.ts: real local Queues, D1 and R2. The Node side
// (hostile input over HTTP, an Elasticsearch outage) runs under vitest.reliability-e2e.config.ts.
import { defineConfig } from "vitest/config";
import ReliabilitySummary from "./test/reliability/summary-reporter";
import { dropBatchLogLines, pipelinePool } from "./test/vitest-pool";

export default defineConfig(async () => ({
  plugins: [
    await pipelinePool({
      // The workerd suite always searches through the D1 FTS5 fallback; Elasticsearch is the
      // e2e suite's job (es-outage.e2e.test.ts).
      ELASTICSEARCH_URL: "",
      SLUICE_ALLOW_NO_ES: "1",
      // Scales the property runs (1 = the full 10,000+ per protocol); e.g. 0.1 while iterating.
      RELIABILITY_SCALE: process.env.RELIABILITY_SCALE ?? "1",
    }),
  ],
  test: {
    include: ["test/reliability/**/*.test.ts"],
    exclude: ["test/reliability/**/*.e2e.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    onConsoleLog: dropBatchLogLines,
    // The figures of this half feed the per-protocol summary (the HTTP half prints the total).
    reporters: ["default", new ReliabilitySummary("in-process")],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
}));
