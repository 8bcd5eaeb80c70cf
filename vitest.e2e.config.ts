// End-to-end tests in Node: real SDK clients (raygun, @sentry/node, Python sentry-sdk) and a real
// headless Chromium talk to the whole stack started by `scripts/start.mjs` (one wrangler dev).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/e2e/**/*.test.ts",
      "workers/**/*.e2e.test.ts",
      "scripts/**/*.e2e.test.ts",
      "test/compat/**/*.test.ts", // the SDK compatibility suite (test/compat/scenario.ts)
    ],
    environment: "node",
    // The compat setup regenerates the README's SDK matrix from the clients that passed.
    globalSetup: ["./test/e2e/global-setup.ts", "./test/compat/matrix-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One stack is shared by every file; run files one after another to keep the 2-core box calm.
    fileParallelism: false,
  },
});
