// Dashboard sessions end: each login is its own server-side session, logout ends it for good, it
// expires after 12 h idle or 7 d in all, changing ADMIN_TOKEN ends every session, and failed logins
// are throttled per client network. Driven through the real console (workerd, local D1).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { login, postLogin, TOKEN } from "../../../test/console-login";
import { BASE, call } from "../../../test/helpers";
import consoleWorker from "../index";

/** GET a dashboard page with a cookie; the login redirect means "no session". */
async function page(cookie: string, path = "/ui/"): Promise<"ok" | "login"> {
  const res = await call(path, { headers: { cookie }, redirect: "manual" });
  await res.body?.cancel();
  if (res.status === 200) return "ok";
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toMatch(/^\/ui\/login\?next=/);
  return "login";
}

async function logout(cookie: string): Promise<Response> {
  const html = await (await call("/ui/", { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  return call("/ui/logout", {
    method: "POST",
    redirect: "manual",
    headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf }).toString(),
  });
}

const sessionRows = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM console_sessions").first<{ n: number }>())!.n;

describe("dashboard sessions", () => {
  it("each login gets its own random session cookie", async () => {
    const a = await login();
    const b = await login();
    expect(a).toMatch(/^sluice_session=[0-9a-f]{64}$/);
    expect(b).not.toBe(a);
    expect(await page(a)).toBe("ok");
    expect(await page(b)).toBe("ok");
  });

  it("logout ends the session on the server: the old cookie no longer opens pages or the API", async () => {
    const cookie = await login();
    const other = await login();
    expect(await page(cookie)).toBe("ok");
    const out = await logout(cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/sluice_session=;.*Max-Age=0/i);
    // A browser would drop the cookie; an attacker who copied it must not get in either.
    expect(await page(cookie)).toBe("login");
    const api = await call("/api/v1/projects", { headers: { cookie } });
    expect(api.status).toBe(401);
    expect(await page(other)).toBe("ok");
  });

  it("expires after 12 h without use and 7 d after login, whatever the cookie's own lifetime", async () => {
    const idle = await login();
    const old = await login();
    const fresh = await login();
    const hash = async (cookie: string) => {
      const bytes = new TextEncoder().encode(cookie.split("=")[1]);
      const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
    };
    const now = Date.now();
    await env.DB.prepare("UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?")
      .bind(now - 12 * 3600_000 - 1000, await hash(idle))
      .run();
    await env.DB.prepare("UPDATE console_sessions SET created_at = ?, last_seen_at = ? WHERE id_hash = ?")
      .bind(now - 7 * 86_400_000 - 1000, now - 60_000, await hash(old))
      .run();
    await env.DB.prepare("UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?")
      .bind(now - 11 * 3600_000, await hash(fresh))
      .run();
    expect(await page(idle)).toBe("login");
    expect(await page(old)).toBe("login");
    expect(await page(fresh)).toBe("ok");
    // Using it moved its idle clock forward.
    const seen = await env.DB.prepare("SELECT last_seen_at AS t FROM console_sessions WHERE id_hash = ?")
      .bind(await hash(fresh))
      .first<{ t: number }>();
    expect(seen!.t).toBeGreaterThanOrEqual(now);
  });

  it("changing ADMIN_TOKEN ends every session", async () => {
    const cookie = await login();
    const rotated = { ...env, ADMIN_TOKEN: "a-new-admin-token" };
    const res = await consoleWorker.fetch(
      new Request(`${BASE}/ui/`, { headers: { cookie }, redirect: "manual" }),
      rotated as never,
      createExecutionContext(),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/ui\/login/);
    const api = await consoleWorker.fetch(
      new Request(`${BASE}/api/v1/projects`, { headers: { cookie } }),
      rotated as never,
      createExecutionContext(),
    );
    expect(api.status).toBe(401);
    // Revoked for good: going back to the old token does not bring the session back.
    expect(await page(cookie)).toBe("login");
  });

  it("stores only a hash of the session id", async () => {
    const cookie = await login();
    const id = cookie.split("=")[1]!;
    const { results } = await env.DB.prepare("SELECT * FROM console_sessions").all();
    expect(results.length).toBeGreaterThan(0);
    expect(JSON.stringify(results)).not.toContain(id);
    expect(JSON.stringify(results)).not.toContain(TOKEN);
    expect(await sessionRows()).toBeLessThanOrEqual(100);
  });
});

describe("failed-login throttling", () => {
  it("after 10 failures a client network waits (even with the right token); others are not affected", async () => {
    const ip = "198.51.100.7";
    for (let i = 0; i < 10; i++) {
      const res = await postLogin(`wrong-${i}`, ip);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain("not right");
    }
    const blocked = await postLogin(TOKEN, ip);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(blocked.headers.get("set-cookie")).toBeNull();
    expect(await blocked.text()).toContain("Too many failed logins");
    const ok = await postLogin(TOKEN, "198.51.100.8");
    expect(ok.status).toBe(303);
  });

  it("counts an IPv6 /64 as one client", async () => {
    for (let i = 0; i < 10; i++)
      expect((await postLogin("wrong", `2001:db8:1:2::${(i + 1).toString(16)}`)).status).toBe(401);
    expect((await postLogin(TOKEN, "2001:db8:1:2:ffff::1")).status).toBe(429);
    expect((await postLogin(TOKEN, "2001:db8:1:3::1")).status).toBe(303);
  });

  it("30 concurrent wrong logins from one client: at most 10 are compared, the rest get 429", async () => {
    const ip = "198.51.100.77";
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => postLogin("wrong", ip).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect((await postLogin(TOKEN, ip)).status).toBe(429);
  });

  it("a successful login clears the client's failures", async () => {
    const ip = "203.0.113.9";
    for (let i = 0; i < 9; i++) expect((await postLogin("wrong", ip)).status).toBe(401);
    expect((await postLogin(TOKEN, ip)).status).toBe(303);
    for (let i = 0; i < 9; i++) expect((await postLogin("wrong", ip)).status).toBe(401);
    expect((await postLogin(TOKEN, ip)).status).toBe(303);
  });
});
