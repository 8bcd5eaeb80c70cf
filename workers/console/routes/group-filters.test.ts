// The issue list's environment and release filters (group_facets, written by the processor once
// per group and value) and the same filters on search, through the real pipeline with the D1 FTS5
// backend (both backends: shared/search/conformance.ts). Bad values are 400s.
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTestProject, type TestProject } from "../../../test/helpers";
import { groupsWhenCounted, indexed, listGroups, sendEvents } from "../workflow-test-helpers";

let p: TestProject;
let ids: Record<string, string>;
let events: string[];

beforeAll(async () => {
  p = await createTestProject("filters");
  const now = Date.now();
  events = await sendEvents(p, [
    { group: "Alpha", environment: "production", release: "shop@1.0", at: now - 4000 },
    { group: "Alpha", environment: "production", release: "shop@1.0", at: now - 3500 },
    { group: "Beta", environment: "staging", release: "shop@1.0", at: now - 3000 },
    { group: "Gamma", environment: "production", release: "shop@2.0", at: now - 2000 },
    { group: "Gamma", environment: "staging", release: "shop@2.0", at: now - 1500 },
    { group: "Delta", at: now - 1000 },
  ]);
  const groups = await groupsWhenCounted(p, 6);
  ids = Object.fromEntries([...groups].map(([type, g]) => [type.replace("Error", ""), g.id]));
});

const listed = async (query: string) => (await listGroups(p, query)).map((g) => g.id);

describe("GET /groups?environment=&release=", () => {
  it("lists only the groups seen in the environment and/or release, newest activity first", async () => {
    expect(await listed("?environment=production")).toEqual([ids.Gamma, ids.Alpha]);
    expect(await listed("?environment=staging")).toEqual([ids.Gamma, ids.Beta]);
    expect(await listed("?release=shop%401.0")).toEqual([ids.Beta, ids.Alpha]);
    expect(await listed("?environment=staging&release=shop%401.0")).toEqual([ids.Beta]);
    expect(await listed("?environment=production&release=shop%402.0")).toEqual([ids.Gamma]);
    expect(await listed("?environment=nowhere")).toEqual([]);
    // Empty values mean no filter.
    expect(await listed("?environment=&release=")).toHaveLength(4);
  });

  it("keeps the filter across pages and combines it with the status filter", async () => {
    const first = await api<{ groups: { id: string }[]; next: string }>(
      `/api/v1/projects/${p.id}/groups?environment=production&limit=1`,
    );
    expect(first.body.groups.map((g) => g.id)).toEqual([ids.Gamma]);
    const second = await api<{ groups: { id: string }[]; next: string | null }>(
      `/api/v1/projects/${p.id}/groups?environment=production&limit=1&cursor=${encodeURIComponent(first.body.next)}`,
    );
    expect(second.body.groups.map((g) => g.id)).toEqual([ids.Alpha]);
    expect(second.body.next).toBeNull();
    await api(`/api/v1/projects/${p.id}/groups/${ids.Alpha}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "resolved" }),
    });
    expect(await listed("?environment=production&status=resolved")).toEqual([ids.Alpha]);
    expect(await listed("?environment=production&status=active")).toEqual([ids.Gamma]);
  });

  it("answers over-long or malformed filter values with a 400 naming the field", async () => {
    for (const [q, field] of [
      [`environment=${"e".repeat(65)}`, "environment"],
      [`release=${"r".repeat(201)}`, "release"],
    ] as const) {
      const r = await api<{ error: string }>(`/api/v1/projects/${p.id}/groups?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(field);
    }
    const odd = await api<{ groups: unknown[] }>(
      `/api/v1/projects/${p.id}/groups?environment=${encodeURIComponent("x' OR 1=1 --")}&release=%25`,
    );
    expect(odd.status).toBe(200);
    expect(odd.body.groups).toEqual([]);
  });
});

describe("GET /search?environment=&release=", () => {
  it("filters events by environment and release", async () => {
    for (const id of events) await indexed(p, id);
    const search = async (q: string) =>
      (await api<{ hits: { eventId: string }[] }>(`/api/v1/projects/${p.id}/search?${q}`)).body.hits
        .map((h) => h.eventId)
        .sort();
    expect(await search("environment=staging")).toEqual([events[2], events[4]].sort());
    expect(await search("release=shop%401.0&environment=production")).toEqual([events[0], events[1]].sort());
    expect(await search("release=shop%402.0")).toEqual([events[3], events[4]].sort());
  });
});
