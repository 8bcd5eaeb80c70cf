// The source-map artifacts list of a project: empty for a project without uploads, a 404 for a
// project that does not exist (like groups, stats and events), never an empty 200.
import { describe, expect, it } from "vitest";
import { api, createTestProject } from "../../../test/helpers";

describe("GET /api/v1/projects/:id/artifacts", () => {
  it("lists nothing for a project without uploads", async () => {
    const p = await createTestProject("artifacts-empty");
    const r = await api<{ bundles: unknown[]; next: number | null }>(`/api/v1/projects/${p.id}/artifacts`);
    expect(r).toEqual({ status: 200, body: { bundles: [], next: null } });
  });

  it("is a 404 for a project that does not exist", async () => {
    const r = await api<{ error: string }>("/api/v1/projects/424242/artifacts");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("project not found");
  });
});
