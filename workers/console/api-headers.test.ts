// Every console API answer carries headers that keep a browser from treating it as a page: no MIME
// sniffing (the raw event download is attacker-supplied bytes), no caching of what the admin token
// unlocked, and a CSP sandbox. Through the real console, with a real stored event.
import { describe, expect, it } from "vitest";
import { ADMIN, call, createTestProject, waitFor } from "../../test/helpers";

function expectApiHeaders(res: Response, label: string) {
  expect(res.headers.get("x-content-type-options"), label).toBe("nosniff");
  expect(res.headers.get("cache-control"), label).toBe("no-store");
  expect(res.headers.get("content-security-policy"), label).toBe("sandbox");
}

describe("API response headers", () => {
  it("JSON answers, errors, the OpenAPI document and the Sentry-compatible API", async () => {
    const p = await createTestProject("api-headers");
    const cases: [string, RequestInit, number][] = [
      ["/api/v1/projects", { headers: ADMIN }, 200],
      [`/api/v1/projects/${p.id}/groups`, { headers: ADMIN }, 200],
      ["/api/v1/openapi.json", {}, 200],
      ["/api/v1/projects", {}, 401],
      ["/api/v1/nope", { headers: ADMIN }, 404],
      ["/api/v1/projects/abc/groups", { headers: ADMIN }, 400],
      ["/api/0/organizations/sluice/chunk-upload/", { headers: ADMIN }, 200],
    ];
    for (const [path, init, status] of cases) {
      const res = await call(path, init);
      await res.body?.cancel();
      expect(res.status, path).toBe(status);
      expectApiHeaders(res, path);
    }
  });

  it("the raw event download", async () => {
    const p = await createTestProject("api-headers-raw");
    const sent = await call(`/entries?apikey=${p.key}`, {
      method: "POST",
      body: JSON.stringify({
        occurredOn: new Date().toISOString(),
        details: { error: { className: "RawProbe", message: "<script>alert(1)</script>" } },
      }),
    });
    expect(sent.status).toBe(202);
    const eventId = await waitFor(async () => {
      const groups = await call(`/api/v1/projects/${p.id}/groups`, { headers: ADMIN });
      const g = ((await groups.json()) as { groups: { id: string }[] }).groups[0];
      if (!g) return undefined;
      const events = await call(`/api/v1/projects/${p.id}/groups/${g.id}/events`, { headers: ADMIN });
      return ((await events.json()) as { events: { id: string }[] }).events[0]?.id;
    }, 30_000);
    const res = await call(`/api/v1/projects/${p.id}/events/${eventId}/raw`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(new TextDecoder().decode(await res.arrayBuffer())).toContain("RawProbe");
    expectApiHeaders(res, "raw");
  });
});
