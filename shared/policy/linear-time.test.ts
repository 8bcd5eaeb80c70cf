// Every scrubbing and filtering step is linear in its input: over a corpus of known pathological
// shapes, 10× the input may cost at most 15× the time (a backtracking pattern costs 100×).
import { describe, expect, it } from "vitest";
import { HOSTILE_GLOBS, measureGrowth, PATHOLOGICAL } from "../../test/linear-time";
import { DEFAULT_SETTINGS } from "../settings";
import { applyInboundFilters } from "./filters";
import { input, withFilters } from "./filters/test-helpers";
import { type ScrubOptions, scrubJson } from "./scrub";
import { scrubString } from "./scrub-rules";

/** ~4 KB at 1×, ~40 KB at 10× (a quadratic step already takes 100× the time there). */
const UNIT = 2_000;
const OPTIONS: ScrubOptions = { defaults: true, scrubIpAddresses: true, sensitiveFields: ["ssn", "a."] };
const RULES = { defaults: true, scrubIp: true, fields: ["ssn", "a."] };
const ALL_FILTERS = withFilters({
  releases: HOSTILE_GLOBS,
  errorMessages: HOSTILE_GLOBS,
  localhost: true,
  legacyBrowsers: true,
  browserExtensions: true,
  webCrawlers: true,
});

/** Each step as the pipeline runs it (the inbound filters include the hostile globs). */
const STEPS: Record<string, (s: string) => unknown> = {
  scrubString: (s) => scrubString(s, RULES),
  scrubJson: (s) =>
    scrubJson({ message: s, pairs: [[s.slice(0, 200), s]], nested: { [s.slice(0, 200)]: s } }, OPTIONS),
  inboundFilters: (s) =>
    applyInboundFilters(
      input({ messages: [s, s], userAgent: s, release: s, url: s, host: s, frameFilenames: [s] }),
      ALL_FILTERS,
    ),
};

describe("linear time over pathological input", () => {
  expect(DEFAULT_SETTINGS.filters.legacyBrowsers).toBe(false); // the test switches every filter on
  for (const [stepName, step] of Object.entries(STEPS)) {
    it.each(Object.keys(PATHOLOGICAL))(`${stepName}: %s`, async (shape) => {
      const make = PATHOLOGICAL[shape]!;
      const g = await measureGrowth(step, make(UNIT), make(10 * UNIT));
      expect(
        g.ratio,
        `${stepName} on "${shape}": ${g.small.toFixed(1)} ms → ${g.large.toFixed(1)} ms`,
      ).toBeLessThanOrEqual(15);
    });
  }
});
