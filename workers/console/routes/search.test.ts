// The search API over the real pipeline (edge → queues → processor → index queue → indexer → D1
// FTS5, the embedded default): a report is findable by a word of its message, by field terms, and
// bad query syntax is a 400.
import { describe, expect, it } from "vitest";
import { api, call, createTestProject, waitFor } from "../../../test/helpers";

describe("GET /api/v1/projects/:id/search", () => {
  it("finds the crash with order 4711 in it, with matches per group", async () => {
    const p = await createTestProject("search");
    const send = (message: string, className: string) =>
      call(`/entries?apikey=${p.key}`, {
        method: "POST",
        body: JSON.stringify({
          occurredOn: new Date().toISOString(),
          details: {
            version: "5.0.1",
            error: {
              className,
              message,
              stackTrace: [{ lineNumber: 3, methodName: "placeOrder", fileName: "orders.js" }],
            },
          },
        }),
      });
    expect((await send("payment failed for order 4711", "PaymentError")).status).toBe(202);
    expect((await send("payment failed for order 4712", "PaymentError")).status).toBe(202);
    expect((await send("inventory empty", "StockError")).status).toBe(202);
    type Result = {
      hits: { eventId: string; message: string; groupId: string; type: string }[];
      total: number;
      groups: { groupId: string; count: number }[];
      backend: string;
    };
    const found = await waitFor(async () => {
      const r = await api<Result>(`/api/v1/projects/${p.id}/search?q=4711`);
      return r.body.total === 1 ? r.body : null;
    });
    expect(found.backend).toBe("fts");
    expect(found.hits[0]!.message).toBe("payment failed for order 4711");
    expect(found.groups).toEqual([{ groupId: found.hits[0]!.groupId, count: 1 }]);
    const byType = await waitFor(async () => {
      const r = await api<Result>(
        `/api/v1/projects/${p.id}/search?q=${encodeURIComponent("type:PaymentError")}`,
      );
      return r.body.total === 2 ? r.body : null;
    });
    expect(byType.groups[0]!.count).toBe(2);
    const release = await waitFor(async () => {
      const r = await api<Result>(`/api/v1/projects/${p.id}/search?release=5.0.1&q=inventory`);
      return r.body.total > 0 ? r.body : null;
    });
    expect(release.hits.map((h) => h.type)).toEqual(["StockError"]);
  });

  it("answers bad query syntax with 400, not 500", async () => {
    const p = await createTestProject("search-bad");
    for (const q of ['"unbalanced', "nosuchfield:x", "level:"]) {
      const r = await api<{ error: string }>(`/api/v1/projects/${p.id}/search?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.length).toBeGreaterThan(0);
    }
  });

  it("is a 404 for a project that does not exist, like groups and stats", async () => {
    const r = await api<{ error: string }>("/api/v1/projects/424242/search?q=x");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("project not found");
  });

  it("answers from after to with the 400 stats gives, whichever form the times take", async () => {
    const p = await createTestProject("search-range");
    const stats = await api<{ error: string }>(`/api/v1/projects/${p.id}/stats?from=2000&to=1000`);
    expect(stats.status).toBe(400);
    for (const range of ["from=2000&to=1000", "from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z"]) {
      const r = await api<{ error: string }>(`/api/v1/projects/${p.id}/search?q=x&${range}`);
      expect(r.status, range).toBe(400);
      expect(r.body.error).toBe(stats.body.error);
    }
    // Equal bounds, or only one of them, are a range.
    for (const range of ["from=1000&to=1000", "from=2000", "to=1000", "from=&to=1000"])
      expect((await api(`/api/v1/projects/${p.id}/search?q=x&${range}`)).status, range).toBe(200);
  });
});
