// Per-isolate cache of parsed source maps, bounded by bytes (least recently used goes first), and
// of artifact look-ups (short-lived, so a fresh upload is seen within seconds). Concurrent requests
// for one map share a single fetch and parse: a batch whose events all point at one bundle reads
// and decodes its map once.

import { decodedMappings, TraceMap } from "@jridgewell/trace-mapping";

export interface ParsedMap {
  map: TraceMap;
  /** Approximate memory held: the map's JSON size, counted twice (decoded mappings + sources). */
  cost: number;
  /** sourcesContent split into lines, per source index, filled on first use. */
  lines: (string[] | null | undefined)[];
  /** Resolved source URL → index (maps of large apps list thousands of sources). */
  sourceIndex: Map<string, number>;
  /** Enclosing function name per "source:line", filled on first use (errors repeat). */
  names: Map<string, string | null>;
  /** Mapped frames by minified position (symbolicate.ts), filled on first use. */
  frames: Map<string, unknown>;
}

export type MapLoad = ParsedMap | { error: string };

/** Default byte budget of the parsed-map cache of one isolate. */
export const MAP_CACHE_BYTES = 32 * 1024 * 1024;

export class MapCache {
  private readonly entries = new Map<string, ParsedMap>();
  private readonly pending = new Map<string, Promise<MapLoad>>();
  private used = 0;
  /** Fetches and parses done (cache misses), for tests and the benchmark. */
  loads = 0;

  constructor(readonly budget = MAP_CACHE_BYTES) {}

  get bytes(): number {
    return this.used;
  }

  /** The parsed map for `key`, loading `fetchText` once however many callers ask at the same time. */
  async get(key: string, fetchText: () => Promise<string | null>): Promise<MapLoad> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // re-insert: Map order is the recency order
      this.entries.set(key, hit);
      return hit;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const load = this.load(key, fetchText).finally(() => this.pending.delete(key));
    this.pending.set(key, load);
    return load;
  }

  private async load(key: string, fetchText: () => Promise<string | null>): Promise<MapLoad> {
    this.loads++;
    const text = await fetchText();
    if (text === null) return { error: "the source map's stored file is gone" };
    let map: TraceMap;
    try {
      map = new TraceMap(text);
      // Decoding is lazy in trace-mapping: force it here so a corrupt `mappings` fails now.
      decodedMappings(map);
    } catch (err) {
      return {
        error: `the source map cannot be read: ${String((err as Error)?.message ?? err).slice(0, 160)}`,
      };
    }
    const sourceIndex = new Map(map.resolvedSources.map((s, i) => [s ?? "", i]));
    const parsed: ParsedMap = {
      map,
      cost: text.length * 2,
      lines: [],
      sourceIndex,
      names: new Map(),
      frames: new Map(),
    };
    if (parsed.cost <= this.budget) {
      this.entries.set(key, parsed);
      this.used += parsed.cost;
      for (const [k, v] of this.entries) {
        if (this.used <= this.budget) break;
        this.entries.delete(k);
        this.used -= v.cost;
      }
    }
    return parsed;
  }
}

/** A small time-bounded cache for look-up results (including "nothing found"). */
export class TtlCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until < this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: T, ttlMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, until: this.now() + ttlMs });
  }
}
