// Filter 3: drops items where any message candidate ("Type: value", the value, the log message)
// matches one of the project's error-message globs, case-insensitively.

import { compiledFilters } from "./compiled";
import type { InboundFilter } from "./types";

export const errorMessagesFilter: InboundFilter = {
  name: "error-message",
  check(input, settings) {
    if (settings.filters.errorMessages.length === 0 || input.messages.length === 0) return false;
    const globs = compiledFilters(settings).errorMessages;
    for (const m of input.messages) if (globs.test(m)) return true;
    return false;
  },
};
