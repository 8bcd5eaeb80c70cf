// The Node side of the reliability suite: what needs the real stack (one `wrangler dev` of every
// worker, started by each test file itself): hostile input over real HTTP, and an Elasticsearch
// outage during ingestion against a real Elasticsearch. The workerd side is
// vitest.reliability.config.ts; `npm run test:reliability` runs both.
import { defineConfig } from "vitest/config";
import ReliabilitySummary from "./test/reliability/summary-reporter";

/** `npm run test:reliability:http` (RELIABILITY_HTTP=1): the hostile-over-HTTP file alone. */
const http = process.env.RELIABILITY_HTTP === "1";

export default defineConfig({
  test: {
    include: http ? ["test/reliability/hostile-http.e2e.test.ts"] : ["test/reliability/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    // Ends `npm run test:reliability` with one summary per protocol (both halves' figures).
    reporters: ["default", new ReliabilitySummary("http")],
  },
});
