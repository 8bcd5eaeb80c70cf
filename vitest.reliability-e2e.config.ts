// The Node side of the reliability suite: faults that need the real stack (one `wrangler dev` of
// every worker, started by the test itself) and a real Elasticsearch, e.g. an Elasticsearch outage
// during ingestion. The workerd side is vitest.reliability.config.ts.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/reliability/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
