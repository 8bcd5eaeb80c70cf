// The contract both search backends must meet, run by fts.test.ts and elasticsearch.test.ts over
// one fixed corpus: the same queries must return the same hits, totals, groups and pages.
// Expected ids are written out by hand (not computed) so a shared bug cannot pass on both.

import { beforeAll, describe, expect, it } from "vitest";
import type { SearchDoc } from "../queue-message";
import type { SearchBackend, SearchOptions, SearchParams, SearchResult } from "./backend";
import { at, CORPUS, corpusDoc, ids, newest, range } from "./conformance-corpus";

export { CORPUS, corpusDoc } from "./conformance-corpus";

/**
 * `makeBackend` must return a backend over empty storage; `refresh` makes writes searchable (ES).
 * Called again with options, it must return a backend over the same storage.
 */
export function runSearchConformance(
  name: string,
  makeBackend: (options?: SearchOptions) => Promise<SearchBackend> | SearchBackend,
) {
  describe(`search conformance: ${name}`, () => {
    let backend: SearchBackend;
    const search = (p: Partial<SearchParams>) => backend.search({ projectId: "p1", ...p });
    const hitIds = async (p: Partial<SearchParams>) =>
      (await search({ limit: 100, ...p })).hits.map((h) => h.eventId);

    beforeAll(async () => {
      backend = await makeBackend();
      const results = await backend.index(CORPUS);
      expect(results).toEqual(CORPUS.map(() => "ok"));
    });

    it("returns everything newest first, with total and group counts", async () => {
      const r = await search({ q: "" });
      expect(r.hits.map((h) => h.eventId)).toEqual(newest(range(1, 20)));
      expect(r.total).toBe(20);
      expect(r.totalRelation).toBe("eq");
      expect(r.next).toBeNull();
      expect(r.groups).toEqual([
        { groupId: "g1", count: 8 },
        { groupId: "g2", count: 6 },
        { groupId: "g3", count: 4 },
      ]);
      expect(r.hits[0]).toEqual({
        eventId: "ev20",
        groupId: null,
        occurredAt: new Date(at(20)).toISOString(),
        type: "Error",
        message: 'Weird "quoted" * NEAR - : input',
        release: "2.0.0",
        environment: "production",
        level: "info",
      });
    });

    it.each<[string, number[]]>([
      ["cannot read", range(1, 8)],
      ["CANNOT", range(1, 8)],
      ['"properties of undefined"', range(1, 8)],
      ['"undefined of properties"', []],
      ["foo", range(1, 8)],
      ["readFoo", range(1, 8)],
      ["util.readFoo", range(1, 8)],
      ["src/checkout.ts", range(9, 14)],
      ["fetch", range(15, 18)],
      ["fetch -orders", []],
      ["-fetch", [...range(1, 14), 19, 20]],
      ["cafe apres", [19]],
      // Chinese and Japanese inside a run of text, as ES's standard tokenizer finds them.
      ["文字", [19]],
      ["ファイル", [19]],
      ["見つかり", [19]],
      ["字文", []],
      ["-中文", [...range(1, 18), 20]],
      ['"quoted" NEAR', [20]],
      ['* - : NEAR("x") OR AND', []],
      ["* -", range(1, 20)],
      ["referenceerror", range(9, 14)],
      ['"browser:chrome"', range(1, 20).filter((n) => n % 2)],
      ['"os.name:linux"', range(1, 20)],
      ["chrome", range(1, 20).filter((n) => n % 2)],
      ["nothingmatches", []],
    ])("free text %j", async (q, expected) => {
      expect(await hitIds({ q })).toEqual(newest(expected));
    });

    it.each<[string, number[]]>([
      ["type:TypeError", range(1, 8)],
      ["type:typeerror", []],
      ["level:fatal", [7]],
      ["-level:error", [7, 19, 20]],
      ["release:2.0.0", range(15, 20)],
      ["environment:staging level:error", [3, 6, 9, 12, 15, 18]],
      ["user:alice", range(1, 4)],
      ["-user:bob", [1, 2, 3, 4, 10]],
      ["groupId:g2", range(9, 14)],
      ["fingerprint:fp-g3", range(15, 18)],
      ["platform:node", range(9, 14)],
      ["category:error", range(1, 20)],
      ["tags.browser:Chrome", range(1, 20).filter((n) => n % 2)],
      ["-tags.browser:Chrome", range(1, 20).filter((n) => n % 2 === 0)],
      ["tags.os.name:Linux", range(1, 20)],
      ['type:"TypeError" cannot', range(1, 8)],
      ["readfoo groupId:g2", []],
    ])("field terms %j", async (q, expected) => {
      expect(await hitIds({ q })).toEqual(newest(expected));
    });

    it("applies parameter filters and the time range (from inclusive, to exclusive)", async () => {
      expect(await hitIds({ groupId: "g2" })).toEqual(newest(range(9, 14)));
      expect(await hitIds({ release: "1.0.0", environment: "staging" })).toEqual(newest([3, 9]));
      expect(await hitIds({ level: "warning" })).toEqual(ids(19));
      expect(await hitIds({ from: at(10), to: at(13) })).toEqual(newest([10, 11, 12]));
      expect(await hitIds({ from: new Date(at(10)).toISOString(), to: String(at(13)) })).toEqual(
        newest([10, 11, 12]),
      );
      const r = await search({ q: "cannot", from: at(6), to: at(9) });
      expect(r.hits.map((h) => h.eventId)).toEqual(newest([5, 6, 7, 8]));
      expect(r.groups).toEqual([{ groupId: "g1", count: 4 }]);
    });

    it("filters by environment or release alone (the issue list's filters), matches per group within them", async () => {
      const staging = await search({ environment: "staging", limit: 100 });
      expect(staging.hits.map((h) => h.eventId)).toEqual(newest([3, 6, 9, 12, 15, 18]));
      expect(staging.groups).toEqual([
        { groupId: "g1", count: 2 },
        { groupId: "g2", count: 2 },
        { groupId: "g3", count: 2 },
      ]);
      const r2 = await search({ release: "2.0.0", limit: 100 });
      expect(r2.hits.map((h) => h.eventId)).toEqual(newest(range(15, 20)));
      expect(r2.groups).toEqual([{ groupId: "g3", count: 4 }]);
      expect(await hitIds({ release: "2.0.0", environment: "nowhere" })).toEqual([]);
    });

    it("isolates projects", async () => {
      expect(await hitIds({ projectId: "p2", q: "cannot" })).toEqual(newest(range(21, 24)));
      expect(await hitIds({ projectId: "p3" })).toEqual([]);
      expect(await backend.get("p1", "ev03")).toMatchObject({ eventId: "ev03", groupId: "g1" });
      expect(await backend.get("p2", "ev03")).toBeNull();
    });

    it("serves one event by id with its segment pointer (the event index)", async () => {
      expect(await backend.get("p1", "ev13")).toEqual({
        eventId: "ev13",
        groupId: "g2",
        category: "error",
        occurredAt: new Date(at(13)).toISOString(),
        receivedAt: new Date(at(13) + 1000).toISOString(),
        type: "ReferenceError",
        message: "bar is not defined",
        release: "1.0.0",
        environment: "production",
        level: "error",
        user: "bob",
        segment: { key: "segments/seg-2", offset: 1300, length: 103 },
      });
      expect((await backend.get("p1", "ev20"))?.segment).toBeNull();
      expect(await backend.get("p1", "nosuch")).toBeNull();
    });

    it("lists a group's events newest first, keyset-paged, per project", async () => {
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const r = await backend.groupEvents("p1", "g1", { limit: 3, cursor });
        pages.push(r.events.map((e) => e.eventId));
        cursor = r.next;
      } while (cursor);
      // ev06 and ev05 share a timestamp: the id breaks the tie, across the page boundary too.
      expect(pages).toEqual([ids(8, 7, 6), ids(5, 4, 3), ids(2, 1)]);
      const g2 = await backend.groupEvents("p1", "g2", {});
      expect(g2.events.map((e) => e.eventId)).toEqual(newest(range(9, 14)));
      expect(g2.next).toBeNull();
      expect(g2.events[0]).toEqual(await backend.get("p1", "ev14"));
      expect((await backend.groupEvents("p2", "g1", {})).events.map((e) => e.eventId)).toEqual(
        newest(range(21, 24)),
      );
      expect((await backend.groupEvents("p3", "g1", {})).events).toEqual([]);
      expect((await backend.groupEvents("p1", "g1", { limit: 1000 })).events).toHaveLength(8);
      await expect(backend.groupEvents("p1", "g1", { cursor: "nope" })).rejects.toMatchObject({
        status: 400,
      });
    });

    it("pages with an opaque cursor; total and groups cover the whole match", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      let last: SearchResult | null = null;
      do {
        last = await search({ limit: 7, cursor });
        sizes.push(last.hits.length);
        seen.push(...last.hits.map((h) => h.eventId));
        expect(last.total).toBe(20);
        expect(last.groups[0]).toEqual({ groupId: "g1", count: 8 });
        cursor = last.next;
      } while (cursor);
      expect(sizes).toEqual([7, 7, 6]);
      expect(seen).toEqual(newest(range(1, 20)));
      // A page boundary between the two docs sharing a timestamp (ev06 then ev05).
      const p1 = await search({ q: "cannot", limit: 3 });
      expect(p1.hits.map((h) => h.eventId)).toEqual(ids(8, 7, 6));
      const p2 = await search({ q: "cannot", limit: 3, cursor: p1.next });
      expect(p2.hits.map((h) => h.eventId)).toEqual(ids(5, 4, 3));
    });

    it("counts matches up to its cap, then says 'at least'; the hits and their pages are unchanged", async () => {
      const capped = await makeBackend({ totalCap: 5 });
      const over = await capped.search({ projectId: "p1", q: "", limit: 7 });
      expect({ total: over.total, relation: over.totalRelation }).toEqual({ total: 5, relation: "gte" });
      expect(over.hits.map((h) => h.eventId)).toEqual(newest(range(14, 20)));
      expect(over.next).not.toBeNull();
      // Exactly as many matches as the cap is still exact; fewer too.
      const five = await capped.search({ projectId: "p1", q: "-user:bob" });
      expect({ total: five.total, relation: five.totalRelation }).toEqual({ total: 5, relation: "eq" });
      const four = await capped.search({ projectId: "p1", q: "fetch" });
      expect({ total: four.total, relation: four.totalRelation }).toEqual({ total: 4, relation: "eq" });
      // Under the cap, groups are exact on both backends.
      expect(four.groups).toEqual([{ groupId: "g3", count: 4 }]);
    });

    it("clamps limit to 1..100 and defaults to 50", async () => {
      expect((await search({ limit: 0 })).hits).toHaveLength(1);
      expect((await search({ limit: 1000 })).hits).toHaveLength(20);
      expect((await search({})).hits).toHaveLength(20);
    });

    it("rejects bad input with a 400", async () => {
      for (const p of [
        { q: '"open' },
        { q: "nosuch:x" },
        { q: "level:" },
        { cursor: "nope" },
        { from: "x" },
      ]) {
        await expect(search(p)).rejects.toMatchObject({ status: 400 });
      }
    });

    it("is idempotent: re-indexing (even a changed doc) changes nothing", async () => {
      const changed = { ...corpusDoc(3), message: "something else entirely" };
      expect(await backend.index([...CORPUS.slice(0, 5), changed])).toEqual(new Array(6).fill("ok"));
      const r = await search({});
      expect(r.total).toBe(20);
      expect(await hitIds({ q: "entirely" })).toEqual([]);
      expect(await hitIds({ q: "cannot" })).toEqual(newest(range(1, 8)));
    });

    it("dead-letters documents that can never be indexed", async () => {
      const bad = { ...corpusDoc(1), eventId: "" } as SearchDoc;
      const noTime = { ...corpusDoc(2), eventId: "evx", occurredAt: "not a date" } as SearchDoc;
      const results = await backend.index([bad, noTime]);
      expect(results).toEqual([{ dead: expect.any(String) }, { dead: expect.any(String) }]);
    });

    it("deletes a project's docs older than a cutoff, and several projects' at once", async () => {
      expect(await backend.deleteOlderThan("p1", at(5))).toEqual({ deleted: 4, done: true });
      expect(await hitIds({})).toEqual(newest(range(5, 20)));
      expect((await search({ q: "cannot" })).groups).toEqual([{ groupId: "g1", count: 4 }]);
      expect(await hitIds({ projectId: "p2" })).toEqual(newest(range(21, 24)));
      expect(await backend.deleteOlderThan("p1", at(5))).toEqual({ deleted: 0, done: true });
      // Several projects at once, each with its own cutoff (a project without docs is no error).
      expect(
        await backend.deleteOlderThanMany([
          { projectId: "p1", cutoffMs: at(8) },
          { projectId: "p2", cutoffMs: at(23) },
          { projectId: "p9", cutoffMs: at(100) },
        ]),
      ).toEqual({ deleted: 5, unfinished: [] });
      expect(await hitIds({})).toEqual(newest(range(8, 20)));
      expect(await hitIds({ projectId: "p2" })).toEqual(newest(range(23, 24)));
      expect(await backend.deleteOlderThanMany([])).toEqual({ deleted: 0, unfinished: [] });
    });
  });
}
