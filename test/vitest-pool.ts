// The workerd test pool shared by the workers and reliability suites: the pipeline test worker
// (test/wrangler.test.toml) with real local Queues, D1 (migrations applied) and R2.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";

export async function pipelinePool(bindings: Record<string, string>) {
  return cloudflareTest({
    wrangler: { configPath: "./test/wrangler.test.toml" },
    miniflare: {
      bindings: { TEST_MIGRATIONS: await readD1Migrations("./migrations"), ...bindings },
      compatibilityFlags: ["service_binding_extra_handlers"],
    },
  });
}

/**
 * The processor's one-line-per-batch log (`{"msg":"batch",...}`) is for Workers Logs in
 * production; in the suites every test batch would print one, drowning what a failure prints.
 * workers/processor/batch-log.test.ts asserts the line itself.
 */
export function dropBatchLogLines(log: string): boolean | undefined {
  return log.startsWith('{"msg":"batch",') ? false : undefined;
}
