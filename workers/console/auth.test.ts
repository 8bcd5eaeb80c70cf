// API writes authenticated by the dashboard cookie must come from the console's own origin: a
// sibling subdomain (same site, so SameSite=Strict still sends the cookie) must not rotate keys.
// Bearer-token calls (CLI, scripts) need no origin. Driven through the real console in workerd.
import { describe, expect, it } from "vitest";
import { login } from "../../test/console-login";
import { ADMIN, BASE, call, createTestProject } from "../../test/helpers";

const keyOf = async (id: string) =>
  ((await (await call(`/api/v1/projects/${id}`, { headers: ADMIN })).json()) as { key: string }).key;

describe("API writes with the session cookie", () => {
  it("refuses a state-changing call from another origin, or with no origin at all", async () => {
    const p = await createTestProject("origin-check");
    const cookie = await login();
    const rotate = `/api/v1/projects/${p.id}/keys/rotate`;
    for (const headers of [
      { origin: "http://evil.sluice.test" },
      { origin: "https://sluice.test" },
      { origin: "null" },
      { referer: "http://evil.sluice.test/page" },
      {},
    ] as Record<string, string>[]) {
      const res = await call(rotate, { method: "POST", headers: { cookie, ...headers } });
      expect(`${JSON.stringify(headers)} → ${res.status}`).toBe(`${JSON.stringify(headers)} → 403`);
      expect(((await res.json()) as { error: string }).error).toMatch(/cross-origin/);
    }
    const patch = await call(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      headers: { cookie, origin: "http://evil.sluice.test", "content-type": "application/json" },
      body: '{"retentionDays":1}',
    });
    expect(patch.status).toBe(403);
    expect(await keyOf(p.id)).toBe(p.key);
    const settings = (await (
      await call(`/api/v1/projects/${p.id}/settings`, { headers: { cookie } })
    ).json()) as {
      retentionDays: number;
    };
    expect(settings.retentionDays).not.toBe(1);
  });

  it("accepts the same call from its own origin, and reads from anywhere", async () => {
    const p = await createTestProject("origin-ok");
    const cookie = await login();
    const same = await call(`/api/v1/projects/${p.id}/keys/rotate`, {
      method: "POST",
      headers: { cookie, origin: BASE },
    });
    expect(same.status).toBe(200);
    const viaReferer = await call(`/api/v1/projects/${p.id}/keys/rotate`, {
      method: "POST",
      headers: { cookie, referer: `${BASE}/ui/projects/${p.id}/setup` },
    });
    expect(viaReferer.status).toBe(200);
    expect(await keyOf(p.id)).not.toBe(p.key);
    const read = await call(`/api/v1/projects/${p.id}`, {
      headers: { cookie, origin: "http://evil.sluice.test" },
    });
    expect(read.status).toBe(200);
  });

  it("bearer-token writes need no origin", async () => {
    const p = await createTestProject("origin-bearer");
    const res = await call(`/api/v1/projects/${p.id}/keys/rotate`, {
      method: "POST",
      headers: { ...ADMIN, origin: "http://elsewhere.example" },
    });
    expect(res.status).toBe(200);
    expect(await keyOf(p.id)).not.toBe(p.key);
  });
});
