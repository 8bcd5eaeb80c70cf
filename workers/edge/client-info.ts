// What the edge knows about the sender, from the HTTP request (never from the payload):
// client IP (raygun4js' X-Remote-Address wins, then CF-Connecting-IP), user agent, origin, and
// Cloudflare's country/colo.

import type { ClientInfo } from "../../shared/event";

export function clientInfo(request: Request): ClientInfo {
  const h = request.headers;
  const cf = (request as { cf?: { country?: unknown; colo?: unknown } }).cf;
  const forwarded = h.get("x-forwarded-for");
  return {
    ip:
      h.get("x-remote-address")?.trim() ||
      h.get("cf-connecting-ip")?.trim() ||
      forwarded?.split(",")[0]?.trim() ||
      null,
    userAgent: h.get("user-agent"),
    country: typeof cf?.country === "string" ? cf.country : null,
    colo: typeof cf?.colo === "string" ? cf.colo : null,
    origin: h.get("origin") ?? h.get("referer") ?? null,
  };
}
