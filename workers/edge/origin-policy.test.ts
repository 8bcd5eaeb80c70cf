// Allowed origins (issue #12.7): the matching rules, then in workerd a project that allows only its
// own pages — a foreign Origin (or Referer) is 403 with an invalid:cors outcome on both protocols,
// its own pages and server SDKs (no Origin) pass, and CORS preflights stay answerable for all.
import { describe, expect, it } from "vitest";
import { api, call, createTestProject, waitFor } from "../../test/helpers";
import { originAllowed } from "./origin-policy";

describe("originAllowed", () => {
  it("follows Sentry's entry forms", () => {
    const allowed = ["https://shop.example", "*.cdn.example", "admin.example:8443", "*:9000"];
    const cases: [string, boolean][] = [
      ["https://shop.example", true],
      ["https://shop.example:443", true],
      ["http://shop.example", false], // the entry names a scheme
      ["https://shop.example:8443", true], // no port named: any (Sentry's parse_uri_match)
      ["https://cdn.example", true],
      ["https://a.b.cdn.example", true],
      ["https://evilcdn.example", false],
      ["https://cdn.example.evil", false],
      ["http://admin.example:8443", true],
      ["https://admin.example", false],
      ["http://anything.test:9000", true],
      ["null", false],
      ["not a url", false],
      [`https://${"a".repeat(5000)}.example`, false],
    ];
    for (const [origin, ok] of cases) expect(originAllowed(allowed, origin), origin).toBe(ok);
    expect(originAllowed(["*"], "https://any.where")).toBe(true);
    expect(originAllowed(["null"], "null")).toBe(true);
    expect(originAllowed([], "https://shop.example")).toBe(false);
  });
});

describe("allowed origins at the edge", () => {
  it("a foreign origin gets 403 and an invalid:cors outcome; allowed pages, server SDKs and preflights pass", async () => {
    const p = await createTestProject("origins");
    const r = await api(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ allowedOrigins: ["https://shop.example"] }),
    });
    expect(r.status).toBe(200);
    const envelope = `{}\n{"type":"event"}\n{"message":"from a page","level":"error"}`;
    const sentry = (headers: Record<string, string>) =>
      call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, { method: "POST", body: envelope, headers });
    const raygun = (headers: Record<string, string>) =>
      call(`/entries?apikey=${p.key}`, {
        method: "POST",
        body: JSON.stringify({
          occurredOn: new Date().toISOString(),
          details: { error: { className: "E", message: "page", stackTrace: [] } },
        }),
        headers,
      });

    const refused = await sentry({ origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/Cors/);
    expect((await raygun({ origin: "https://evil.example" })).status).toBe(403);
    expect((await sentry({ referer: "https://evil.example/checkout" })).status).toBe(403);

    expect((await sentry({ origin: "https://shop.example" })).status).toBe(200);
    expect((await raygun({ origin: "https://shop.example" })).status).toBe(202);
    expect((await sentry({})).status).toBe(200);

    for (const path of [`/api/${p.id}/envelope/`, "/entries"]) {
      const pre = await call(path, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      expect([200, 204]).toContain(pre.status);
      expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    }

    const totals = await waitFor(async () => {
      const s = await api<{ totals: { outcome: string; reason: string; quantity: number }[] }>(
        `/api/v1/projects/${p.id}/stats`,
      );
      const cors = s.body.totals.filter((t) => t.reason === "invalid:cors");
      const accepted = s.body.totals.filter((t) => t.outcome === "accepted");
      return cors.reduce((n, t) => n + t.quantity, 0) === 3 &&
        accepted.reduce((n, t) => n + t.quantity, 0) === 3
        ? s.body.totals
        : null;
    });
    expect(totals.filter((t) => t.reason === "invalid:cors").every((t) => t.outcome === "invalid")).toBe(
      true,
    );
  });
});
