// Filter 1: drops items whose connecting client IP is in the project's IP / CIDR list (v4 or v6).

import { compiledFilters } from "./compiled";
import type { InboundFilter } from "./types";

export const clientIpsFilter: InboundFilter = {
  name: "ip-address",
  check(input, settings) {
    if (settings.filters.ipAddresses.length === 0 || !input.clientIp) return false;
    return compiledFilters(settings).ips.has(input.clientIp);
  },
};
