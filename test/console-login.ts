// Test helper for the console's workerd tests: logs in through the real dashboard form and returns
// the session cookie, as a browser would hold it.
import { BASE, call } from "./helpers";

export const TOKEN = "test-admin-token";

/** POST /ui/login from this origin; the raw response (303 with a cookie on success). */
export function postLogin(token: string, ip = "192.0.2.1"): Promise<Response> {
  return call("/ui/login", {
    method: "POST",
    redirect: "manual",
    headers: {
      origin: BASE,
      "content-type": "application/x-www-form-urlencoded",
      "cf-connecting-ip": ip,
    },
    body: new URLSearchParams({ token, next: "/ui/" }).toString(),
  });
}

/** Logs in and returns the `name=value` cookie pair to send back. */
export async function login(ip?: string): Promise<string> {
  const res = await postLogin(TOKEN, ip);
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("login set no cookie");
  return cookie;
}
