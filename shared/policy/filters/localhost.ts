// Filter 4 (opt-in): drops reports from a developer's own machine: a loopback client IP, a page or
// request URL on localhost / *.localhost / 127.0.0.1 / [::1], a `file://` page, or such a Host.

import type { InboundFilter } from "./types";

const LOCAL_IPS = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** scheme, then optional userinfo, then the host (bracketed IPv6 or up to the port/path). */
const URL_HOST = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i;

export const localhostFilter: InboundFilter = {
  name: "localhost",
  check(input, settings) {
    if (!settings.filters.localhost) return false;
    if (input.clientIp && LOCAL_IPS.has(input.clientIp)) return true;
    if (input.url) {
      const m = URL_HOST.exec(input.url);
      if (m) {
        if ((m[1] as string).toLowerCase() === "file") return true;
        if (isLocalHost(m[2] as string)) return true;
      }
    }
    if (input.host && isLocalHost(stripPort(input.host))) return true;
    return false;
  },
};

function stripPort(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end === -1 ? host : host.slice(0, end + 1);
  }
  // A bare IPv6 literal has several colons and no port.
  const first = host.indexOf(":");
  return first !== -1 && first === host.lastIndexOf(":") ? host.slice(0, first) : host;
}

/** `localhost` itself or any subdomain of it (not `localhost.com`), and the loopback literals. */
export function isLocalHost(rawHost: string): boolean {
  const host = rawHost.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return host === "127.0.0.1" || host === "[::1]" || host === "::1";
}
