// The one signature every inbound filter has, so the list in ./index.ts can run them uniformly
// and turn the first verdict into a `filtered` outcome whose reason is the filter's name.

import type { ProjectSettings } from "../../settings";
import type { FilterInput } from "../filter-input";

export interface InboundFilter {
  /** Outcome reason when this filter drops an item (Relay's FilterStatKey names). */
  name: string;
  /** True = drop. Must be cheap: no I/O, no per-call regex compilation. */
  check(input: FilterInput, settings: ProjectSettings): boolean;
}
