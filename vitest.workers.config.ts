// Tests that run inside workerd (the real Workers runtime) against miniflare's local D1, R2 and
// Queues: unit tests of shared modules and integration tests of the whole pipeline.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./test/wrangler.test.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          // The pipeline under test uses the embedded D1 FTS5 backend; the Elasticsearch backend
          // is tested against the real engine at this URL (scripts/elasticsearch.sh).
          ELASTICSEARCH_URL: "",
          SLUICE_TEST_ES_URL: process.env.SLUICE_TEST_ES_URL ?? "",
          // Elasticsearch tests may only be skipped outside CI (CI must prove both search backends).
          SLUICE_ALLOW_NO_ES: process.env.CI ? "0" : "1",
        },
        compatibilityFlags: ["service_binding_extra_handlers"],
      },
    }),
  ],
  test: {
    include: ["shared/**/*.test.ts", "workers/**/*.test.ts"],
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 30_000,
  },
}));
