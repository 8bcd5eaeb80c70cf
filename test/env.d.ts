// Bindings only the test worker has, and the typed `exports` of the pipeline test worker.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    SLUICE_ALLOW_NO_ES?: string;
    SLUICE_TEST_ES_URL?: string;
  }
  interface GlobalProps {
    mainModule: typeof import("./pipeline-worker");
  }
}
