// Per-isolate cache of parsed source maps, bounded by an estimate of the heap they hold (least
// recently used goes first), and of artifact look-ups (short-lived, so a fresh upload is seen within
// seconds). Concurrent requests for one map share a single fetch and parse: a batch whose events all
// point at one bundle reads and decodes its map once. A map too large to decode within the isolate's
// memory is refused before decoding, and the refusal is remembered like a parsed map.

import { decodedMappings, TraceMap } from "@jridgewell/trace-mapping";

export interface ParsedMap {
  map: TraceMap;
  /** Estimated heap bytes held once decoded and fully used (see estimateMapCost). */
  cost: number;
  /** sourcesContent split into lines, per source index, filled on first use. */
  lines: (string[] | null | undefined)[];
  /** Resolved source URL → index (maps of large apps list thousands of sources). */
  sourceIndex: Map<string, number>;
  /** Enclosing function names (symbolicate.ts), filled on first use (errors repeat). */
  names: Map<string, string | null>;
  /** Mapped frames by minified position (symbolicate.ts), filled on first use. */
  frames: Map<string, unknown>;
}

export type MapLoad = ParsedMap | { error: string };

/**
 * What a loader hands the cache: the map's text, null when the stored file is gone, or only the
 * stored size when that alone shows the map is too large (so its body is never read).
 */
export type MapText = string | null | { size: number };

const MiB = 1024 * 1024;
/**
 * Default heap budget of the parsed-map cache of one isolate (128 MB). Parsing a new map also needs
 * its text and JSON tree for a moment (up to MAX_MAP_COST / 2 each, see load), so the cache, a
 * map being parsed and the batch itself stay well under the limit.
 */
export const MAP_CACHE_BYTES = 40 * MiB;
/**
 * The largest map (estimated heap once decoded) the processor parses. No larger than the budget:
 * a map that parsed but could not be kept would be fetched and decoded again for every event.
 */
export const MAX_MAP_COST = MAP_CACHE_BYTES;

// Heap per part of a decoded map, measured inside workerd (V8 with pointer compression; Node's
// 8-byte pointers need about twice the per-object figures): 2,000,000 four-field segments raised
// workerd's resident memory by 102 MB, and Node's heap by 194 MB. Strings are counted at 2 bytes
// a character (one-byte strings use 1: the slack covers arrays growing in steps, object headers
// of the map and the memo tables). See map-cost-memory.test.ts.
/** One decoded segment: a 1-, 4- or 5-number array (16 B header + 8 B + 4 B per number + slot). */
const SEGMENT_BYTES = 52;
/** One generated line's array of segments. */
const LINE_BYTES = 40;
/** One line of split sourcesContent (a sliced string and its slot). */
const SOURCE_LINE_BYTES = 32;
/** One string of `names`/`sources`/resolved sources, besides its characters. */
const STRING_BYTES = 32;
/** The parsed map object itself, its indexes and memo tables at their first entries. */
const MAP_BYTES = 4096;

/** The parts of a source map the estimate reads (before TraceMap sees it). */
interface RawMap {
  mappings?: unknown;
  sourcesContent?: unknown;
  names?: unknown;
  sources?: unknown;
}

/** Characters of `s` equal to `code`: a plain linear scan, no allocation. */
function countChar(s: string, code: number): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
  return n;
}

/**
 * Estimated heap bytes of a map once decoded by trace-mapping and used for symbolication: the
 * encoded mappings (kept), a small array per segment and per generated line, sourcesContent and
 * its lines once split, names and sources (twice: as given and resolved). Segments are counted
 * from the text, before decoding: each ',' or ';' ends at most one segment.
 */
export function estimateMapCost(raw: RawMap): number {
  let cost = MAP_BYTES;
  const strings = (list: unknown, copies: number) => {
    if (!Array.isArray(list)) return;
    for (const s of list) if (typeof s === "string") cost += copies * (STRING_BYTES + 2 * s.length);
  };
  if (typeof raw.mappings === "string") {
    const m = raw.mappings;
    const lines = countChar(m, 59) + 1; // ';'
    cost += m.length + lines * LINE_BYTES + (countChar(m, 44) + lines) * SEGMENT_BYTES; // ','
  }
  if (Array.isArray(raw.sourcesContent))
    for (const s of raw.sourcesContent)
      if (typeof s === "string") cost += 2 * s.length + (countChar(s, 10) + 1) * SOURCE_LINE_BYTES;
  strings(raw.names, 1);
  strings(raw.sources, 2);
  return cost;
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** A cache entry: a parsed map, or why a map was refused (kept so it is not fetched again). */
type Entry = { load: MapLoad; cost: number };

/** What a remembered refusal is counted as (its message and the entry). */
const REFUSAL_BYTES = 512;

export class MapCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<MapLoad>>();
  private used = 0;
  /** Fetches and parses done (cache misses), for tests and the benchmark. */
  loads = 0;

  constructor(
    readonly budget = MAP_CACHE_BYTES,
    /** The largest estimated cost parsed; never above the budget (see MAX_MAP_COST). */
    readonly maxCost = Math.min(MAX_MAP_COST, budget),
  ) {}

  get bytes(): number {
    return this.used;
  }

  /** The parsed map for `key`, loading `fetchText` once however many callers ask at the same time. */
  async get(key: string, fetchText: () => Promise<MapText>): Promise<MapLoad> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // re-insert: Map order is the recency order
      this.entries.set(key, hit);
      return hit.load;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const load = this.load(key, fetchText).finally(() => this.pending.delete(key));
    this.pending.set(key, load);
    return load;
  }

  /** Evicts least recently used entries until `cost` more bytes fit the budget. */
  private makeRoom(cost: number): void {
    for (const [k, v] of this.entries) {
      if (this.used + cost <= this.budget) break;
      this.entries.delete(k);
      this.used -= v.cost;
    }
  }

  private keep(key: string, load: MapLoad, cost: number): MapLoad {
    this.makeRoom(cost);
    this.entries.set(key, { load, cost });
    this.used += cost;
    return load;
  }

  /** A refusal, remembered: the same stored file would be refused again (uploads never change). */
  private refuse(key: string, error: string): MapLoad {
    return this.keep(key, { error }, REFUSAL_BYTES + key.length * 2);
  }

  private tooLarge(key: string, what: string): MapLoad {
    return this.refuse(
      key,
      `the source map is too large to process: ${what}, over the ${MB(this.maxCost)} one map may take`,
    );
  }

  private async load(key: string, fetchText: () => Promise<MapText>): Promise<MapLoad> {
    this.loads++;
    const text = await fetchText();
    if (text === null) return { error: "the source map's stored file is gone" };
    // A map's estimate is at least twice its text (every part is counted at ≥ 2 bytes a
    // character), so a text over half the cap is refused before it is read or parsed: reading and
    // parsing it would itself hold twice its size.
    if (typeof text !== "string") {
      if (text.size * 2 > this.maxCost) return this.tooLarge(key, `${MB(text.size)} stored`);
      return { error: "the source map's stored file could not be read" };
    }
    if (text.length * 2 > this.maxCost) return this.tooLarge(key, `${MB(text.length)} of text`);
    let raw: RawMap;
    try {
      raw = JSON.parse(text) as RawMap;
    } catch (err) {
      return this.refuse(key, `the source map cannot be read: ${messageOf(err)}`);
    }
    const cost = raw && typeof raw === "object" ? estimateMapCost(raw) : 0;
    if (cost > this.maxCost) return this.tooLarge(key, `about ${MB(cost)} once decoded`);
    // Room first: the maps this one displaces are released before it is decoded.
    this.makeRoom(cost);
    let map: TraceMap;
    try {
      map = new TraceMap(raw as ConstructorParameters<typeof TraceMap>[0]);
      // Decoding is lazy in trace-mapping: force it here so a corrupt `mappings` fails now.
      decodedMappings(map);
    } catch (err) {
      return this.refuse(key, `the source map cannot be read: ${messageOf(err)}`);
    }
    const sourceIndex = new Map(map.resolvedSources.map((s, i) => [s ?? "", i]));
    const parsed: ParsedMap = {
      map,
      cost,
      lines: [],
      sourceIndex,
      names: new Map(),
      frames: new Map(),
    };
    return this.keep(key, parsed, cost);
  }
}

const messageOf = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 160);

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
