// Admin authentication for the console: `Authorization: Bearer <ADMIN_TOKEN>` (API, CLI) or the
// dashboard's HTTP-only session cookie (a server-side session, sessions.ts). A cookie rides along
// on any same-site request, so cookie-authenticated writes must also come from this very origin; a
// bearer token is never sent by a browser on its own, so it needs no such check. A console
// deployed without the ADMIN_TOKEN secret refuses every request rather than running open.

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { safeEqual } from "../../shared/digest";
import { findSession } from "./sessions";

export const SESSION_COOKIE = "sluice_session";

export { safeEqual };

export function configuredToken(env: { ADMIN_TOKEN?: string }): string | null {
  const t = env.ADMIN_TOKEN;
  return typeof t === "string" && t.length > 0 ? t : null;
}

/** True when the request's Origin (or, without one, Referer) is this origin; false when neither is sent. */
export function sameOrigin(c: Context): boolean {
  const self = new URL(c.req.url).origin;
  const origin = c.req.header("origin");
  if (origin && origin !== "null") return origin === self;
  const referer = c.req.header("referer");
  if (!referer) return false;
  try {
    return new URL(referer).origin === self;
  } catch {
    return false;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Requires a valid bearer token or session cookie; answers 401 (or 503 when unconfigured). A
 * state-changing request authenticated by the cookie alone must come from this origin (else 403).
 *
 * @example app.use("/api/v1/*", requireAdmin());
 */
export function requireAdmin(): MiddlewareHandler<{ Bindings: ConsoleEnv }> {
  return async function requireAdminMiddleware(c, next) {
    const token = configuredToken(c.env);
    if (!token) return c.json({ error: "console is not configured: set the ADMIN_TOKEN secret" }, 503);
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (bearer !== undefined) {
      if (safeEqual(bearer, token)) return next();
      return c.json({ error: "invalid admin token" }, 401);
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (!cookie || !(await findSession(c.env.DB, cookie, token)))
      return c.json({ error: "missing admin token: send Authorization: Bearer <token>" }, 401);
    if (!SAFE_METHODS.has(c.req.method) && !sameOrigin(c))
      return c.json(
        { error: "cross-origin request refused: send Authorization: Bearer <token>, or use the dashboard" },
        403,
      );
    return next();
  };
}
