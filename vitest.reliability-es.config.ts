// The fault suite again, with Elasticsearch as the event index (the production configuration): the
// same pipeline test worker, its indexer and console pointed at the real Elasticsearch of
// SLUICE_TEST_ES_URL under an index prefix of this run's own (the indexer installs the template, as
// on a fresh cluster). `npm run test:reliability` runs it after the D1 FTS5 run.
import { defineConfig } from "vitest/config";
import { dropBatchLogLines, pipelinePool } from "./test/vitest-pool";

const url = process.env.SLUICE_TEST_ES_URL ?? "";
// Without Elasticsearch this run fails, unless a developer skips it on purpose (never in CI).
const skip = !url && process.env.SLUICE_SKIP_ES === "1" && !process.env.CI;
if (!url && !skip)
  throw new Error("vitest.reliability-es.config.ts needs SLUICE_TEST_ES_URL (scripts/test.mjs starts one)");
const prefix = `sluicefaults-${Date.now().toString(36)}`;
process.env.SLUICE_FAULTS_ES_PREFIX = prefix;

export default defineConfig(async () => ({
  plugins: [
    await pipelinePool({
      ELASTICSEARCH_URL: url,
      ELASTICSEARCH_INDEX_PREFIX: prefix,
      RELIABILITY_SCALE: process.env.RELIABILITY_SCALE ?? "1",
    }),
  ],
  test: {
    include: skip ? [] : ["test/reliability/faults.test.ts"],
    // A file filter meant for the other reliability runs leaves this one nothing to run.
    passWithNoTests: true,
    setupFiles: ["./test/apply-migrations.ts"],
    globalSetup: ["./test/reliability/es-prefix-teardown.ts"],
    onConsoleLog: dropBatchLogLines,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
}));
