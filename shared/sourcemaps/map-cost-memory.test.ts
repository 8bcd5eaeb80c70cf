// The parsed-map cache counts what a decoded map really holds, and refuses (and remembers refusing)
// a map too large to decode inside the isolate. Heap is measured where it can be (Node with
// --expose-gc); workerd reports no heap figures, so there the estimate is held to what was measured
// inside workerd: 2,000,000 decoded segments raised its resident memory by 102 MB (51 B each).
import { decodedMappings, TraceMap } from "@jridgewell/trace-mapping";
import { describe, expect, it } from "vitest";
import { estimateMapCost, MapCache } from "./map-cache";

const MiB = 1024 * 1024;

/** A map of `segments` four-field segments, 100 to a generated line (a dense minified bundle). */
function denseMap(segments: number, sourcesContent?: string[]): string {
  const line = "CAAC,".repeat(100).slice(0, -1);
  const mappings = Array.from({ length: Math.ceil(segments / 100) }, () => line).join(";");
  return JSON.stringify({ version: 3, sources: ["a.js"], names: [], mappings, sourcesContent });
}

/** A typical original source: short lines of code. */
const source = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `  const value${i} = compute(${i}, "label ${i}");`).join("\n");

/** Heap retained by what `build` returns, or null where the runtime cannot tell (workerd). */
function retainedHeap(build: () => unknown): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  const usage = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number } } }).process
    ?.memoryUsage;
  if (typeof gc !== "function" || !usage || usage().heapUsed === 0) return null;
  gc();
  const before = usage().heapUsed;
  const kept = build();
  gc();
  const after = usage().heapUsed;
  expect(kept).toBeTruthy(); // keeps `kept` alive across the second collection
  return after - before;
}

describe("estimateMapCost", () => {
  it("counts decoded segments and sources, not twice the text (measured against the heap)", () => {
    const content = source(20_000);
    const cases = [
      { text: denseMap(200_000), segments: 200_000, chars: 0 },
      { text: denseMap(50_000, [content]), segments: 50_000, chars: content.length },
    ];
    for (const { text, segments, chars } of cases) {
      const cost = estimateMapCost(JSON.parse(text));
      const heap = retainedHeap(() => {
        const map = new TraceMap(text);
        decodedMappings(map);
        return [map, map.sourcesContent?.map((c) => c?.split(/\r?\n/))];
      });
      if (heap === null) {
        // workerd: each segment within a quarter of the 51 B measured there (the old count, twice
        // the text, gave a dense map's segment 10 B), and every source character counted.
        const perSegment = (cost - 2 * chars) / segments;
        expect(perSegment).toBeGreaterThan(51 * 0.75);
        expect(perSegment).toBeLessThan(51 * 1.5);
      } else {
        // Node keeps 8-byte pointers where workerd compresses them to 4: its heap is up to about
        // twice workerd's for the same map.
        expect(cost).toBeGreaterThan(heap * 0.4);
        expect(cost).toBeLessThan(heap * 1.25);
      }
    }
  });
});

describe("MapCache memory bounds", () => {
  it("refuses a map that would decode past the per-map cap, and does not fetch it again", async () => {
    const cache = new MapCache(8 * MiB);
    const text = denseMap(200_000); // 1 MB of text, ~10 MB decoded
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return text;
    };
    const first = await cache.get("big", fetch);
    expect(first).toMatchObject({ error: expect.stringMatching(/too large to process: about 1\d\.\d MB/) });
    expect(await cache.get("big", fetch)).toBe(first);
    expect(fetches).toBe(1);
    expect(cache.bytes).toBeLessThan(4096);
  });

  it("refuses a stored file on its size alone, and remembers it", async () => {
    const cache = new MapCache(8 * MiB);
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return { size: 6 * MiB };
    };
    expect(await cache.get("huge", fetch)).toMatchObject({
      error: expect.stringMatching(/too large to process: 6\.3 MB stored/),
    });
    await cache.get("huge", fetch);
    expect(fetches).toBe(1);
  });

  it("keeps what it holds within its budget, counted as decoded", async () => {
    const text = denseMap(20_000);
    const cost = estimateMapCost(JSON.parse(text));
    expect(cost).toBeGreaterThan(20_000 * 40);
    const cache = new MapCache(cost * 3);
    for (const key of ["a", "b", "c", "d", "e"]) {
      const load = await cache.get(key, async () => text);
      expect(load).toMatchObject({ cost });
      expect(cache.bytes).toBeLessThanOrEqual(cost * 3);
    }
    expect(cache.loads).toBe(5);
  });
});
