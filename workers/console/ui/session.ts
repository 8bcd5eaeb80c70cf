// Dashboard sessions: login with the admin token sets an HTTP-only, SameSite=Strict cookie holding
// sessionValue(token); every POST must also come from this origin (Origin, else Referer) and carry
// the per-session CSRF token (an HMAC of the session), so a cross-site form can never act.

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { configuredToken, SESSION_COOKIE, safeEqual, sessionValue } from "../auth";

export type UiEnv = { Bindings: ConsoleEnv; Variables: { csrf: string } };

async function hmacHex(key: string, label: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(label));
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The CSRF token of a session: derived, so nothing is stored and logout/rotation invalidates it. */
export const csrfToken = (session: string) => hmacHex(session, "sluice-console-csrf-v1");

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

/** Only local dashboard paths are valid post-login destinations (no open redirect). */
export function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/ui/") && !/[\\\r\n]/.test(next) ? next : "/ui/";
}

export async function startSession(c: Context<UiEnv>, token: string): Promise<void> {
  setCookie(c, SESSION_COOKIE, await sessionValue(token), {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: 7 * 86_400,
  });
}

export function endSession(c: Context<UiEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/**
 * Requires a valid session cookie (else redirects to the login page) and, on POST, the same
 * origin and the session's CSRF token in the form (else 403). Exposes the token as `c.var.csrf`.
 *
 * @example ui.use("/ui/*", requireSession());
 */
export function requireSession(): MiddlewareHandler<UiEnv> {
  return async function requireSessionMiddleware(c, next) {
    const token = configuredToken(c.env);
    if (!token) return c.text("console is not configured: set the ADMIN_TOKEN secret", 503);
    const cookie = getCookie(c, SESSION_COOKIE) ?? "";
    const expected = await sessionValue(token);
    if (!safeEqual(cookie, expected)) {
      if (c.req.method !== "GET") return c.text("not logged in", 401);
      const url = new URL(c.req.url);
      return c.redirect(`/ui/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    const csrf = await csrfToken(expected);
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      if (!sameOrigin(c) || typeof form.csrf !== "string" || !safeEqual(form.csrf, csrf))
        return c.text("cross-site request refused (reload the page and try again)", 403);
    }
    c.set("csrf", csrf);
    return next();
  };
}
