// The SDK compatibility suite: every real client we can reach (npm, PyPI, the Go module proxy, Maven
// Central; Chromium for the browser SDKs) runs the same scenario against one whole stack
// (`scripts/start.mjs`, shared by every file), and the README's matrix is generated from the run.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: `${import.meta.dirname}/../..`,
    include: ["test/compat/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/e2e/global-setup.ts", "./test/compat/matrix-setup.ts"],
    // Cold toolchain builds (Go, Java, the Python venv) happen once, then come from .cache/compat.
    testTimeout: 120_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
