// The SSRF guard of alert targets, applied when a rule is saved (a 400) and again by the alerter
// before every delivery (a rule saved while the setting was on is refused once it is off).
//
// Refused unless ALLOW_PRIVATE_ALERT_TARGETS=true: anything but http(s), credentials in the URL,
// IP literals in private, loopback, link-local, shared, multicast or reserved ranges (IPv4, IPv6,
// IPv4-mapped; the URL parser already turns "0x7f.1" or "2130706433" into 127.0.0.1), IPv6
// transition ranges that embed or translate to an IPv4 address (6to4, Teredo, NAT64, SIIT: each can
// carry 127.0.0.1 or 10.x, so they are refused whole rather than decoded), and names
// that only resolve inside a network (localhost, *.localhost, *.local, *.internal, *.home.arpa,
// single-label hosts). LIMIT: Workers cannot resolve a name before fetching it (no DNS API, and
// DNS-over-HTTPS is not available here), so a public name whose DNS points at a private address is
// not caught here; a deployed Worker's fetch leaves from Cloudflare's network, which cannot reach
// the operator's private ranges anyway.

import { compileIpSet, parseIp } from "../policy/ip";

const BLOCKED = compileIpSet([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24", // 6to4 relay anycast (deprecated, RFC 7526): forwards to an embedded IPv4
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/96", // unspecified, loopback, IPv4-compatible (deprecated): [::127.0.0.1]
  "::ffff:0:0:0/96", // SIIT IPv4-translated (RFC 2765): ::ffff:0:7f00:1 is 127.0.0.1
  "64:ff9b::/96", // NAT64 well-known prefix (RFC 6052): 64:ff9b::a00:1 is 10.0.0.1
  "64:ff9b:1::/48", // NAT64 local-use prefix (RFC 8215): the IPv4 position is the operator's choice
  "100::/64",
  "2001::/32", // Teredo (RFC 4380): tunnels to an IPv4 server and (obfuscated) client
  "2001:2::/48", // benchmarking (RFC 5180), as 198.18.0.0/15
  "2001:db8::/32",
  "2002::/16", // 6to4 (RFC 3056): 2002:7f00:1:: is 127.0.0.1
  "3fff::/20", // documentation (RFC 9637), as 2001:db8::/32
  "fc00::/7",
  "fe80::/10",
  "fec0::/10", // site-local (deprecated, RFC 3879): still private where it is used
  "ff00::/8",
]);

const INTERNAL_NAME = /(^|\.)(localhost|local|internal|home\.arpa|localdomain)$/;

export interface GuardOptions {
  /** ALLOW_PRIVATE_ALERT_TARGETS=true: private and loopback targets allowed (local development). */
  allowPrivate: boolean;
}

/** The env setting, read one way everywhere. */
export const allowPrivateTargets = (env: { ALLOW_PRIVATE_ALERT_TARGETS?: string }) =>
  env.ALLOW_PRIVATE_ALERT_TARGETS === "true";

/**
 * Why `raw` may not be an alert target, or null when it may.
 *
 * @example targetProblem("http://127.0.0.1:9000/hook", { allowPrivate: false }) // "…loopback…"
 */
export function targetProblem(raw: string, { allowPrivate }: GuardOptions): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "target.url: not a valid URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "target.url: must be http or https";
  if (url.username || url.password) return "target.url: must not carry credentials";
  if (allowPrivate) return null;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  const isIp = host.startsWith("[") || /^[\d.]+$/.test(host);
  if (isIp) {
    return !parseIp(literal) || BLOCKED.has(literal)
      ? "target.url: private, loopback or link-local addresses are refused (set ALLOW_PRIVATE_ALERT_TARGETS=true to allow)"
      : null;
  }
  if (INTERNAL_NAME.test(host) || !host.includes("."))
    return "target.url: local host names are refused (set ALLOW_PRIVATE_ALERT_TARGETS=true to allow)";
  return null;
}
