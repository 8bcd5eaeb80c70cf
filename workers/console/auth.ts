// Admin authentication for the console: `Authorization: Bearer <ADMIN_TOKEN>` (API, CLI) or the
// dashboard's HTTP-only session cookie. A console deployed without the ADMIN_TOKEN secret refuses
// every request rather than running open.

import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";

export const SESSION_COOKIE = "sluice_session";

/** Constant-time string comparison (the length of the token is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  if (x.byteLength !== y.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** The session cookie value: an HMAC of a fixed label under the admin token (rotating the token logs everyone out). */
export async function sessionValue(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("sluice-console-session-v1"));
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function configuredToken(env: { ADMIN_TOKEN?: string }): string | null {
  const t = env.ADMIN_TOKEN;
  return typeof t === "string" && t.length > 0 ? t : null;
}

/** Requires a valid bearer token or session cookie; answers 401 (or 503 when unconfigured). */
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
    if (cookie && safeEqual(cookie, await sessionValue(token))) return next();
    return c.json({ error: "missing admin token: send Authorization: Bearer <token>" }, 401);
  };
}
