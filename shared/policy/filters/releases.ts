// Filter 2: drops items whose release matches one of the project's release globs (e.g. "1.0.*").

import { compiledFilters } from "./compiled";
import type { InboundFilter } from "./types";

export const releasesFilter: InboundFilter = {
  name: "release-version",
  check(input, settings) {
    if (settings.filters.releases.length === 0 || !input.release) return false;
    return compiledFilters(settings).releases.test(input.release);
  },
};
