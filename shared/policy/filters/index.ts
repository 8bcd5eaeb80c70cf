// The edge's inbound filters, run after validation and BEFORE sampling, quotas and spike counting
// (Raygun counts its "error process rate" only after filters). The first filter that says "drop"
// wins; its name becomes the reason of a `filtered` outcome, and the client still gets its 2xx.
//
//   validate → [ client IPs → releases → error messages → localhost → browser extensions
//                → legacy browsers → web crawlers ] → sampling → quotas → enqueue
//
// Order (Relay's, relay-filter/src/lib.rs): the filters are additive, so the order changes only
// which reason is recorded and how much work is done. Cheap exact checks on one field come first
// (IP set, release glob), then the user's message globs (which state explicit intent, so they
// should get the credit), then the built-in heuristics, the UA-regex ones last.
// Filters see every category; fields a category lacks are empty, so e.g. message filters never
// drop a session.

import type { ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";
import { browserExtensionsFilter } from "./browser-extensions";
import { clientIpsFilter } from "./client-ips";
import { errorMessagesFilter } from "./error-messages";
import { legacyBrowsersFilter } from "./legacy-browsers";
import { localhostFilter } from "./localhost";
import { releasesFilter } from "./releases";
import type { InboundFilter } from "./types";
import { webCrawlersFilter } from "./web-crawlers";

export type { InboundFilter } from "./types";

export const INBOUND_FILTERS: readonly InboundFilter[] = [
  clientIpsFilter,
  releasesFilter,
  errorMessagesFilter,
  localhostFilter,
  browserExtensionsFilter,
  legacyBrowsersFilter,
  webCrawlersFilter,
];

/**
 * Returns the name of the first filter that drops the item (the outcome reason), else null.
 *
 * @example
 * const reason = applyInboundFilters(filterInputFromSentry(event, client, "error"), settings);
 * if (reason) outcomes.push(filteredOutcome(projectId, "error", reason));
 */
export function applyInboundFilters(input: FilterInput, settings: ProjectSettings): string | null {
  for (const f of INBOUND_FILTERS) {
    if (f.check(input, settings)) return f.name;
  }
  return null;
}
