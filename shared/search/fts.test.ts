// Runs the search conformance suite against the D1 FTS5 fallback (local D1 in workerd) and checks
// what only this backend has to get right: hostile FTS5 syntax and D1's bound-parameter limit.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { corpusDoc, runSearchConformance } from "./conformance";
import { FtsSearchBackend } from "./fts";

runSearchConformance("fts", (options) => new FtsSearchBackend(env.DB, options));

describe("fts backend", () => {
  const backend = new FtsSearchBackend(env.DB);

  it("indexes batches larger than D1's 100 bound parameters, idempotently", async () => {
    const docs = Array.from({ length: 450 }, (_, i) => ({
      ...corpusDoc(1),
      projectId: "bulk",
      eventId: `b${i}`,
    }));
    expect(new Set(await backend.index(docs))).toEqual(new Set(["ok"]));
    expect(new Set(await backend.index(docs))).toEqual(new Set(["ok"]));
    const r = await backend.search({ projectId: "bulk", q: "cannot" });
    expect(r.total).toBe(450);
    const fts = await env.DB.prepare("SELECT count(*) AS n FROM search_fts").first<{ n: number }>();
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM search_docs").first<{ n: number }>();
    expect(fts?.n).toBe(rows?.n);
  });

  it("never turns FTS5 syntax in user input into an error", async () => {
    for (const q of [
      "NEAR(a b)",
      "a*",
      "-",
      "col:x:y",
      '"a" OR "b"',
      "^foo",
      "a AND",
      "(",
      "{x}",
      "\u0000",
    ]) {
      const quoted = q.includes(":") ? `"${q.replace(/"/g, "")}"` : q;
      await expect(backend.search({ projectId: "p9", q: quoted })).resolves.toMatchObject({ total: 0 });
    }
  });

  it("dead-letters docs whose keyword fields are not strings", async () => {
    const doc = { ...corpusDoc(1), eventId: "odd", release: { nested: true } } as never;
    expect(await backend.index([doc])).toEqual([{ dead: expect.stringContaining("release") }]);
  });
});
