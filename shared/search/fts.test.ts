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

  it("starts a search page at its cursor by an index range, not by walking past the pages before it", async () => {
    // Records the statements the backend prepares, with their parameters.
    const seen: { sql: string; params: unknown[] }[] = [];
    const recording = new Proxy(env.DB, {
      get(db, key) {
        if (key !== "prepare") return Reflect.get(db, key).bind?.(db) ?? Reflect.get(db, key);
        return (sql: string) => {
          const stmt = db.prepare(sql);
          return new Proxy(stmt, {
            get(target, k) {
              if (k !== "bind") return Reflect.get(target, k).bind?.(target) ?? Reflect.get(target, k);
              return (...params: unknown[]) => {
                seen.push({ sql, params });
                return target.bind(...params);
              };
            },
          });
        };
      },
    });
    const docs = Array.from({ length: 12 }, (_, i) => ({ ...corpusDoc(i + 1), projectId: "paging" }));
    expect(new Set(await backend.index(docs))).toEqual(new Set(["ok"]));
    const paged = new FtsSearchBackend(recording);
    const first = await paged.search({ projectId: "paging", q: "", limit: 5 });
    expect(first.next).toBeTruthy();
    seen.length = 0;
    await paged.search({ projectId: "paging", q: "", limit: 5, cursor: first.next });
    const hits = seen.find((s) =>
      /ORDER BY d\.occurred_at DESC, d\.event_id DESC LIMIT \?$/.test(s.sql.trim()),
    );
    expect(hits).toBeDefined();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${hits!.sql}`)
      .bind(...hits!.params)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail).join(" | ");
    expect(details).toMatch(
      /search_docs_project_time \(project_id=\? AND \(occurred_at,event_id\)<\(\?,\?\)\)/,
    );
  });

  it("still finds a document indexed before Chinese and Japanese runs were cut apart, by the whole run", async () => {
    const doc = { ...corpusDoc(19), projectId: "legacy-cut", eventId: "old-cjk" };
    expect(await backend.index([doc])).toEqual(["ok"]);
    // Its index row as the previous release wrote it: each run of letters one token.
    const row = await env.DB.prepare(
      "SELECT rowid AS r FROM search_docs WHERE project_id = ? AND event_id = ?",
    )
      .bind("legacy-cut", "old-cjk")
      .first<{ r: number }>();
    await env.DB.prepare("DELETE FROM search_fts WHERE rowid = ?").bind(row!.r).run();
    await env.DB.prepare("INSERT INTO search_fts (rowid, text) VALUES (?, ?)")
      .bind(row!.r, "timeout apres 30 s naive cafe ファイルか見つかりません 中文字")
      .run();
    const hits = async (q: string) =>
      (await backend.search({ projectId: "legacy-cut", q })).hits.map((h) => h.eventId);
    expect(await hits("中文字")).toEqual(["old-cjk"]);
    expect(await hits("ファイルが見つかりません")).toEqual(["old-cjk"]);
    expect(await hits("-中文字")).toEqual([]);
    expect(await hits("cafe")).toEqual(["old-cjk"]);
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

  it("still answers for a project holding a row with an out-of-range time (indexed before validation)", async () => {
    // prepareDoc now refuses such times; a row stored before it did must not make every search,
    // event view and group list of its project fail (toISOString() threw a RangeError: a 500).
    await env.DB.prepare(
      `INSERT INTO search_docs (project_id, event_id, group_id, category, occurred_at, received_at, message, level)
       VALUES ('legacy', 'far', 'g', 'error', 1e16, 1e16, 'm', 'error')`,
    ).run();
    await backend.index([{ ...corpusDoc(1), projectId: "legacy", eventId: "fine", groupId: "g" }]);
    const r = await backend.search({ projectId: "legacy" });
    expect(r.hits.map((h) => [h.eventId, h.occurredAt])).toEqual([
      ["far", ""],
      ["fine", corpusDoc(1).occurredAt],
    ]);
    expect(await backend.get("legacy", "far")).toMatchObject({ occurredAt: "", receivedAt: "" });
    const events = await backend.groupEvents("legacy", "g", {});
    expect(events.events.map((e) => e.eventId)).toEqual(["far", "fine"]);
  });

  it("stops after maxChunks round trips of 1,000 docs (one for several projects) and says that some are left", async () => {
    const docs = Array.from({ length: 2_100 }, (_, i) => ({
      ...corpusDoc(1),
      projectId: "expiring",
      eventId: `x${i}`,
    }));
    expect(new Set(await backend.index(docs))).toEqual(new Set(["ok"]));
    const cutoff = Date.parse(docs[0]!.occurredAt) + 1;
    // Several projects at once take one chunk each: a full one names its project as unfinished.
    const many = [{ projectId: "expiring", cutoffMs: cutoff }];
    expect(await backend.deleteOlderThanMany(many)).toEqual({ deleted: 1_000, unfinished: ["expiring"] });
    expect(await backend.deleteOlderThan("expiring", cutoff, 1)).toEqual({ deleted: 1_000, done: false });
    expect(await backend.deleteOlderThanMany(many)).toEqual({ deleted: 100, unfinished: [] });
    expect((await backend.search({ projectId: "expiring", q: "" })).total).toBe(0);
  });
});
