// Bindings only the reliability suite's workerd config adds (vitest.reliability.config.ts).
declare namespace Cloudflare {
  interface Env {
    /** Multiplies every property's numRuns (default 1); lower it for quick local iterations. */
    RELIABILITY_SCALE?: string;
  }
}
