// Tests that run inside workerd (the real Workers runtime) against miniflare's local D1, R2 and
// Queues: unit tests of shared modules and integration tests of the whole pipeline.
import { defineConfig } from "vitest/config";
import { dropBatchLogLines, pipelinePool } from "./test/vitest-pool";

export default defineConfig(async () => ({
  plugins: [
    await pipelinePool({
      // The pipeline under test uses the embedded D1 FTS5 backend; the Elasticsearch backend
      // is tested against the real engine at this URL (scripts/elasticsearch.sh).
      ELASTICSEARCH_URL: "",
      SLUICE_TEST_ES_URL: process.env.SLUICE_TEST_ES_URL ?? "",
      // Elasticsearch tests may only be skipped outside CI (CI must prove both search backends).
      SLUICE_ALLOW_NO_ES: process.env.CI ? "0" : "1",
    }),
  ],
  test: {
    include: ["shared/**/*.test.ts", "workers/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    onConsoleLog: dropBatchLogLines,
    testTimeout: 30_000,
  },
}));
