// A group's event list answers what went wrong where it went wrong: an unknown project is a 404
// (not a cursor 400), and a metadata-shard failure is the console's 500 (not the search backend's
// 503), while a bad cursor stays a 400. Through the real console against local D1.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardDbs } from "../../../shared/db/shards";
import { ADMIN, api, BASE, createTestProject } from "../../../test/helpers";
import consoleWorker from "../index";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A D1 binding whose statements on `table` fail as a D1 outage would. */
function failingOn(db: D1Database, table: string): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          if (sql.includes(table)) throw new Error("D1_ERROR: Network connection lost.");
          return target.prepare(sql);
        };
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("GET /api/v1/projects/:id/groups/:groupId/events", () => {
  it("is a 404 for a project that does not exist", async () => {
    const r = await api<{ error: string }>("/api/v1/projects/424242/groups/0123456789abcdef/events");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("project not found");
  });

  it("a bad cursor is still a 400 that names the cursor", async () => {
    const p = await createTestProject("group-events-cursor");
    const r = await api<{ error: string }>(
      `/api/v1/projects/${p.id}/groups/0123456789abcdef/events?cursor=${btoa("x:y")}`,
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^cursor: /);
  });

  it("a failed read of the merged groups (D1) is a 500, not the event index's 503", async () => {
    const p = await createTestProject("group-events-d1-down");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const shards = shardDbs(env).map((d) => failingOn(d, "group_redirects"));
    const broken = {
      ...env,
      ...Object.fromEntries(shards.map((d, i) => [`DB_SHARD_${i}`, d])),
      DB: failingOn(env.DB, "group_redirects"),
    } as unknown as ConsoleEnv;
    const res = await consoleWorker.fetch(
      new Request(`${BASE}/api/v1/projects/${p.id}/groups/0123456789abcdef/events`, { headers: ADMIN }),
      broken,
      createExecutionContext(),
    );
    const body = (await res.json()) as { error: string };
    expect(res.status).toBe(500);
    expect(body.error).not.toMatch(/event index/);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(errors).toHaveBeenCalled();
    expect(warnings.mock.calls.flat().join(" ")).not.toMatch(/event index failed/);
  });
});
