// Dashboard sessions: login with the admin token starts a server-side session (../sessions.ts) whose
// random id is an HTTP-only, SameSite=Strict cookie; logout ends it. Every POST must also come from
// this origin (Origin, else Referer) and carry the session's CSRF token, so a cross-site form can
// never act.

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hmacHex } from "../../../shared/digest";
import { configuredToken, SESSION_COOKIE, safeEqual, sameOrigin } from "../auth";
import { createSession, deleteSession, findSession, SESSION_MAX_MS } from "../sessions";
import { readForm } from "./input";

export type UiEnv = { Bindings: ConsoleEnv; Variables: { csrf: string } };

export { sameOrigin };

/** The CSRF token of a session: derived from its secret id, so nothing more is stored. */
export const csrfToken = (session: string) => hmacHex(session, "sluice-console-csrf-v1");

const HERE = "http://sluice.invalid";

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Only local dashboard paths are valid redirect targets (after login, after a status change): no
 * open redirect, and nothing a Location header refuses (a NUL or another control character makes
 * Headers.set throw, which would turn an action that already happened into a 500). The path is
 * resolved as the browser would resolve it (`/ui/../api`, `//host`, `\` are refused) and returned
 * in its serialised form, which percent-encodes whatever is not plain ASCII.
 */
export function safeNext(next: unknown): string {
  // Control characters are refused outright: the URL parser would silently drop tabs and newlines.
  if (typeof next !== "string" || !next.startsWith("/ui/") || next.includes("\\") || hasControl(next))
    return "/ui/";
  let url: URL;
  try {
    url = new URL(next, HERE);
  } catch {
    return "/ui/";
  }
  if (url.origin !== HERE || !url.pathname.startsWith("/ui/")) return "/ui/";
  return url.pathname + url.search + url.hash;
}

export async function startSession(c: Context<UiEnv>, token: string): Promise<void> {
  setCookie(c, SESSION_COOKIE, await createSession(c.env.DB, token), {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: SESSION_MAX_MS / 1000,
  });
}

export async function endSession(c: Context<UiEnv>): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id) await deleteSession(c.env.DB, id);
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/**
 * Requires a live session (else redirects to the login page) and, on POST, the same origin and the
 * session's CSRF token in the form (else 403). Exposes the token as `c.var.csrf`.
 *
 * @example ui.use("/ui/*", requireSession());
 */
export function requireSession(): MiddlewareHandler<UiEnv> {
  return async function requireSessionMiddleware(c, next) {
    const token = configuredToken(c.env);
    if (!token) return c.text("console is not configured: set the ADMIN_TOKEN secret", 503);
    const id = getCookie(c, SESSION_COOKIE) ?? "";
    if (!(await findSession(c.env.DB, id, token))) {
      if (id) deleteCookie(c, SESSION_COOKIE, { path: "/" });
      if (c.req.method !== "GET") return c.text("not logged in", 401);
      const url = new URL(c.req.url);
      return c.redirect(`/ui/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    const csrf = await csrfToken(id);
    if (c.req.method === "POST") {
      const form = await readForm(c);
      if (!sameOrigin(c) || typeof form.csrf !== "string" || !safeEqual(form.csrf, csrf))
        return c.text("cross-site request refused (reload the page and try again)", 403);
    }
    c.set("csrf", csrf);
    return next();
  };
}
