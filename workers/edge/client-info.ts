// What the edge knows about the sender, from the HTTP request (never from the payload): client IP,
// user agent, origin, and Cloudflare's country/colo. The IP feeds the IP filter and is stored with
// the event, so a client must not be able to choose it: CF-Connecting-IP (set by Cloudflare, which
// overwrites any client value) is the peer. Forwarding headers (X-Remote-Address, then
// X-Forwarded-For) are believed only when that peer is one of the proxies listed in the
// TRUSTED_PROXIES variable (comma-separated IPs / CIDRs, empty by default).

import type { ClientInfo } from "../../shared/event";
import { compileIpSet, type IpSet, parseIp } from "../../shared/policy/ip";

export interface ClientInfoEnv {
  TRUSTED_PROXIES?: string;
}

// Compiled once per distinct variable value (it is the same for every request of an isolate).
let trustedSource: string | undefined;
let trusted: IpSet = compileIpSet([]);

function trustedProxies(env: ClientInfoEnv | undefined): IpSet {
  const source = env?.TRUSTED_PROXIES ?? "";
  if (source !== trustedSource) {
    trustedSource = source;
    trusted = compileIpSet(source.split(",").filter((s) => s.trim() !== ""));
  }
  return trusted;
}

/** A header value that is one well-formed IP address (forwarding headers may carry anything). */
function validIp(value: string | null | undefined): string | null {
  const v = value?.trim();
  return v && v.length <= 64 && parseIp(v) ? v : null;
}

/**
 * The client's address: the peer, or what a trusted proxy says the peer's client was. In
 * X-Forwarded-For each hop appends, so the right-most address that is not a trusted proxy is the
 * first one nobody upstream could have forged.
 */
export function clientIp(headers: Headers, env?: ClientInfoEnv): string | null {
  const peer = validIp(headers.get("cf-connecting-ip"));
  const proxies = trustedProxies(env);
  if (peer === null || proxies.size === 0 || !proxies.has(peer)) return peer;
  const remote = validIp(headers.get("x-remote-address"));
  if (remote) return remote;
  // Only the right-most hops matter; a huge header costs no more than its last 2 KB.
  const hops = (headers.get("x-forwarded-for") ?? "").slice(-2048).split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = validIp(hops[i]);
    if (hop === null) break; // garbage: nothing left of it can be trusted
    if (!proxies.has(hop)) return hop;
  }
  return peer;
}

/** `origin`: what `checkOrigin` already read (Origin, else Referer), so it is not read twice. */
export function clientInfo(
  request: Request,
  env?: ClientInfoEnv,
  origin: string | null = request.headers.get("origin") ?? request.headers.get("referer"),
): ClientInfo {
  const h = request.headers;
  const [country, colo] = countryAndColo(request);
  return { ip: clientIp(h, env), userAgent: h.get("user-agent"), country, colo, origin };
}

const COUNTRY = /^[A-Z0-9]{2}$/;
const COLO = /^[A-Z]{3,4}$/;

/**
 * The client's country and the Cloudflare data center. Cloudflare sends both as headers on every
 * request it hands a Worker, set by its edge like CF-Connecting-IP: CF-IPCountry (IP geolocation,
 * on by default) and CF-Ray ("<ray id>-<colo>"). `request.cf` says the same, but workerd builds
 * that object from its JSON on each request: profiled in workerd, the one `request.cf` read cost
 * twice as much as reading the 5 KB body. So the headers first, `request.cf` only without them.
 */
export function countryAndColo(request: Request): [country: string | null, colo: string | null] {
  const h = request.headers;
  const country = h.get("cf-ipcountry");
  const ray = h.get("cf-ray");
  if (country !== null && ray !== null && ray.length <= 64) {
    const colo = ray.slice(ray.lastIndexOf("-") + 1);
    if (COUNTRY.test(country) && COLO.test(colo)) return [country, colo];
  }
  const cf = (request as { cf?: { country?: unknown; colo?: unknown } }).cf;
  return [typeof cf?.country === "string" ? cf.country : null, typeof cf?.colo === "string" ? cf.colo : null];
}
