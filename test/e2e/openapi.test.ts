// The OpenAPI document served at /api/v1/openapi.json describes every /api/v1 route the console
// app actually serves (read from the app's own route table), each with its error responses.
import { describe, expect, it } from "vitest";
import { app } from "../../workers/console/app";
import { stack } from "./client";

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

/** `/api/v1/projects/:id{[0-9]+}/x` → `/api/v1/projects/{id}/x` */
const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

function servedRoutes(): string[] {
  const seen = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || !r.path.startsWith("/api/v1/") || r.path === "/api/v1/openapi.json") continue;
    seen.add(`${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`);
  }
  return [...seen].sort();
}

describe("OpenAPI document", () => {
  it("is served without a token and lists every API route the console serves", async () => {
    const res = await fetch(`${stack().url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    const served = servedRoutes();
    expect(served.length).toBeGreaterThanOrEqual(15);
    expect(served).toContain("get /api/v1/projects/{id}/rum/pages");
    expect(served).toContain("get /api/v1/projects/{id}/releases");
    expect(documented).toEqual(expect.arrayContaining(served));
    // And nothing documented that is not served.
    expect(served).toEqual(expect.arrayContaining(documented));
  });

  it("documents the error responses of every route", async () => {
    const doc = (await (await fetch(`${stack().url}/api/v1/openapi.json`)).json()) as Doc;
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const status of ["400", "401", "404"])
          if (!op.responses?.[status]) missing.push(`${method} ${path}: ${status}`);
    expect(missing).toEqual([]);
  });

  it("describes the dashboard's RUM and release-health routes with their schemas", async () => {
    const doc = (await (await fetch(`${stack().url}/api/v1/openapi.json`)).json()) as Doc & {
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.components.schemas).toHaveProperty("RumPage");
    expect(doc.components.schemas).toHaveProperty("ReleaseHealth");
  });
});
