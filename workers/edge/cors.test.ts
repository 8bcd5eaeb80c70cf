// CORS headers on every answer of the ingestion routes, in workerd: browser SDKs must be able to read
// a 4xx or a 429 (to back off), not only a 202; preflights list the SDKs' headers.
import { beforeAll, describe, expect, it } from "vitest";
import { api, call, createTestProject, type TestProject } from "../../test/helpers";

let project: TestProject;
let limited: TestProject;
beforeAll(async () => {
  project = await createTestProject("cors");
  limited = await createTestProject("cors-limited");
  const r = await api(`/api/v1/projects/${limited.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify({ rateLimitPerMinute: 1, spikeProtection: false }),
  });
  expect(r.status).toBe(200);
});

const report = () => JSON.stringify({ occurredOn: new Date().toISOString(), details: { error: {} } });

function expectCors(res: Response): void {
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  expect(res.headers.get("access-control-expose-headers")).toBe(
    "X-Sentry-Error,X-Sentry-Rate-Limits,Retry-After",
  );
}

describe("ingestion CORS", () => {
  it("on 202, 400, 403, 413 and 415 answers of the Raygun routes", async () => {
    const key = { "x-apikey": project.key, origin: "https://shop.example" };
    const cases: [RequestInit, number][] = [
      [{ body: report(), headers: key }, 202],
      [{ body: "{not json", headers: key }, 400],
      [{ body: report(), headers: { origin: "https://shop.example" } }, 403],
      [{ body: "x".repeat(200 * 1024), headers: key }, 413],
      [{ body: report(), headers: { ...key, "content-encoding": "snappy" } }, 415],
    ];
    for (const [init, status] of cases) {
      const res = await call("/entries", { method: "POST", ...init });
      expect(res.status).toBe(status);
      expectCors(res);
      await res.arrayBuffer();
    }
  });

  it("on a 429, next to its Retry-After", async () => {
    const post = () =>
      call("/entries", { method: "POST", body: report(), headers: { "x-apikey": limited.key } });
    expect((await post()).status).toBe(202);
    const res = await post();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expectCors(res);
  });

  it("on Sentry answers, 200 and 4xx", async () => {
    const ok = await call(`/api/${project.id}/store/?sentry_key=${project.key}`, {
      method: "POST",
      body: JSON.stringify({ message: "hi" }),
    });
    expect(ok.status).toBe(200);
    expectCors(ok);
    const bad = await call(`/api/${project.id}/store/?sentry_key=${project.key}`, {
      method: "POST",
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expectCors(bad);
    expect(bad.headers.get("content-type")).toMatch(/application\/json/);
  });

  it("answers a preflight with the methods, headers and max-age, and no other path gets them", async () => {
    const res = await call("/api/1/envelope/", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expectCors(res);
    expect(res.headers.get("access-control-allow-methods")).toBe("POST,OPTIONS");
    expect(res.headers.get("access-control-max-age")).toBe("3600");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    for (const h of ["x-apikey", "x-sentry-auth", "content-encoding", "authorization"]) {
      expect(allowed).toContain(h);
    }
    const health = await call("/healthz");
    expect(health.status).toBe(200);
    expect(health.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("/api/0/ is Sentry's management API (sentry-cli), not ingestion: no ingestion CORS answer there", async () => {
    const preflight = { origin: "https://evil.example", "access-control-request-method": "POST" };
    for (const path of ["/api/0/projects/org/app/releases/", "/api/0/organizations/org/chunk-upload/"]) {
      const res = await call(path, {
        method: "OPTIONS",
        headers: { ...preflight, "access-control-request-headers": "authorization" },
      });
      await res.arrayBuffer();
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-headers")).toBeNull();
    }
    // A project's ingestion paths still get it, preflight and POST alike.
    const res = await call(`/api/${project.id}/envelope/`, { method: "OPTIONS", headers: preflight });
    expect(res.status).toBe(204);
    expectCors(res);
    const post = await call(`/api/${project.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      body: `{}\n{"type":"event"}\n${JSON.stringify({ message: "hi" })}\n`,
    });
    expect(post.status).toBe(200);
    expectCors(post);
  });
});
