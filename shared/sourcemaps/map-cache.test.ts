import { describe, expect, it } from "vitest";
import { estimateMapCost, MapCache, TtlCache } from "./map-cache";
import { FIXTURES } from "./test-helpers";

describe("MapCache", () => {
  it("loads a map once for concurrent callers and keeps it", async () => {
    const cache = new MapCache();
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return FIXTURES.shop.map;
    };
    const loads = await Promise.all(Array.from({ length: 10 }, () => cache.get("k", fetch)));
    expect(new Set(loads).size).toBe(1);
    await cache.get("k", fetch);
    expect(fetches).toBe(1);
    expect(cache.loads).toBe(1);
  });

  it("evicts the least recently used maps past its byte budget", async () => {
    const size = estimateMapCost(JSON.parse(FIXTURES.shop.map));
    const cache = new MapCache(size * 2);
    const fetch = async () => FIXTURES.shop.map;
    await cache.get("a", fetch);
    await cache.get("b", fetch);
    await cache.get("a", fetch); // a is now the most recent
    await cache.get("c", fetch); // evicts b
    expect(cache.bytes).toBeLessThanOrEqual(size * 2);
    const before = cache.loads;
    await cache.get("a", fetch);
    expect(cache.loads).toBe(before);
    await cache.get("b", fetch);
    expect(cache.loads).toBe(before + 1);
  });

  it("answers an unreadable or missing map with an error, not a throw", async () => {
    const cache = new MapCache();
    expect(await cache.get("x", async () => "{ not json")).toMatchObject({
      error: expect.stringMatching(/cannot be read/),
    });
    expect(await cache.get("y", async () => null)).toMatchObject({ error: expect.stringMatching(/gone/) });
  });
});

describe("TtlCache", () => {
  it("forgets entries after their time and bounds its size", () => {
    let now = 0;
    const cache = new TtlCache<string | null>(2, () => now);
    cache.set("a", null, 10);
    expect(cache.get("a")).toBeNull();
    now = 11;
    expect(cache.get("a")).toBeUndefined();
    cache.set("b", "1", 100);
    cache.set("c", "2", 100);
    cache.set("d", "3", 100);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("d")).toBe("3");
  });
});
