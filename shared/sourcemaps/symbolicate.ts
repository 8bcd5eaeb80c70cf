// Symbolication of one event's JavaScript frames: each frame's map is found by debug id (Sentry's
// `debug_meta.images`), else by release + dist + `~/` URL, and the frame is rewritten to the
// original file, line, column and function, with context lines from `sourcesContent`. The result is
// a compact record kept with the stored event (meta.symbolication), so the console rebuilds the same
// frames from the payload as received; the minified frame stays beside each mapped one.

import { originalPositionFor } from "@jridgewell/trace-mapping";
import type { CanonicalEvent, StackFrame } from "../event";
import type { ParsedMap } from "./map-cache";
import { cleanSourcePath, isVendorPath, tildeUrl } from "./urls";

/** Why a frame was not mapped, in words a user can act on. */
export type UnmappedReason = "no_map" | "bad_map" | "out_of_range" | "no_location" | "unavailable";

export interface MappedFields {
  filename: string;
  absPath: string;
  function: string | null;
  lineno: number;
  colno: number;
  inApp: boolean;
  contextLine: string | null;
  preContext: string[];
  postContext: string[];
}

/** Per exception, per frame: the mapped fields, a reason, or null (not a JavaScript frame). */
export interface SymbolicationRecord {
  v: 1;
  frames: ({ m: MappedFields } | { r: UnmappedReason; d: string } | null)[][];
}

/** How a map is found for a frame; the processor's resolver caches and fetches. */
export interface MapResolver {
  /** The parsed map for a frame, or why there is none. */
  resolve(frame: {
    url: string | null;
    debugId: string | null;
  }): Promise<ParsedMap | { reason: UnmappedReason; detail: string }>;
}

const CONTEXT = 5;
const MAX_LINE = 200;
/** Frames nearest the raise that get context lines (bounds the stored record). */
const CONTEXT_FRAMES = 40;
const JS_FILE = /\.(m|c)?jsx?(\?|#|$)/i;

export function isJsFrame(frame: StackFrame, platform: string | null): boolean {
  if (frame.lineno === null && frame.colno === null) return false;
  // V8's "<anonymous>" (eval, injected scripts) and native frames have no file to map.
  const name = frame.absPath ?? frame.filename ?? "";
  if (name === "" || name.startsWith("<") || name === "native" || name === "[native code]") return false;
  if (platform === "javascript" || platform === "node") return true;
  const f = frame.absPath ?? frame.filename ?? "";
  return JS_FILE.test(f);
}

/** code_file → debug id, from a Sentry payload's `debug_meta.images` of type `sourcemap`. */
export function debugIdsOf(payload: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const images = (payload as { debug_meta?: { images?: unknown } } | null)?.debug_meta?.images;
  if (!Array.isArray(images)) return out;
  for (const img of images.slice(0, 500)) {
    if (!img || typeof img !== "object") continue;
    const { type, code_file, debug_id } = img as Record<string, unknown>;
    if (type !== "sourcemap" || typeof code_file !== "string" || typeof debug_id !== "string") continue;
    const id = debug_id.replaceAll("-", "").toLowerCase();
    if (/^[0-9a-f]{32}$/.test(id)) out.set(code_file, id);
  }
  return out;
}

function linesOf(parsed: ParsedMap, sourceIndex: number): string[] | null {
  let lines = parsed.lines[sourceIndex];
  if (lines === undefined) {
    const content = parsed.map.sourcesContent?.[sourceIndex];
    lines = typeof content === "string" ? content.split(/\r?\n/) : null;
    parsed.lines[sourceIndex] = lines;
  }
  return lines;
}

const clip = (line: string) => (line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);

// Each identifier must start where no identifier character precedes it (the lookbehinds): without
// that, a line of 500 identifier characters was tried from each of its 500 starts, every try reading
// to the end of the run (quadratic: 20–40 ms for one search of 101 such lines). With it, a run is
// read once, from its start.
const FUNCTION_DEF =
  /(?:(?<![\w$])function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(|(?<![\w$])([A-Za-z_$][\w$]*)\s*[:=]\s*(?:async\s*)?(?:function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)|^\s*(?:static\s+|async\s+|get\s+|set\s+)*([A-Za-z_$][\w$]*)\s*\([^()]*\)\s*\{)/g;
const NOT_NAMES = new Set(["if", "for", "while", "switch", "catch", "return", "function", "with"]);
/** Characters of a source line read for definitions, and lines read above a position. */
const SCAN_LINE = 500;
const SCAN_LINES = 100;
/**
 * Characters of original source the name search may read for one event. The deadline cannot stop
 * this work inside workerd (the clock stands still between I/O, and cached maps need none), so it
 * is bounded here: a 250-frame stack over lines built to be slow reads at most this much (about
 * 3 ms on 500-character lines of `x`, 20 ms on the slowest shape measured, at 6–42 ns a character);
 * frames past it keep the name their caller called them by. Ordinary stacks read far less: a frame
 * reads its own line and the lines up to the nearest definition above it, once per map and line.
 */
export const NAME_SCAN_CHARS = 500_000;

/** The name search's allowance for one event: characters it may still read. */
export interface ScanBudget {
  left: number;
}

/** The last function definition in `text`, if any. */
function lastDefinition(text: string, budget: ScanBudget): string | null {
  budget.left -= text.length;
  let found: string | null = null;
  for (const m of text.matchAll(FUNCTION_DEF)) {
    const name = m[1] ?? m[2] ?? m[3] ?? null;
    if (name && !NOT_NAMES.has(name)) found = name;
  }
  return found;
}

/**
 * The nearest definition in the lines above `line` (up to SCAN_LINES), cached per map by line:
 * every frame on one line shares it, whatever its column. Undefined when the budget ran out first
 * (not cached: a later event, with its own budget, finishes the search).
 */
function definitionAbove(
  parsed: ParsedMap,
  source: number,
  lines: string[],
  line: number,
  budget: ScanBudget,
): string | null | undefined {
  const key = `${source}:${line}`;
  const hit = parsed.names.get(key);
  if (hit !== undefined) return hit;
  let found: string | null = null;
  for (let l = line - 1; l >= Math.max(0, line - SCAN_LINES) && found === null; l--) {
    const text = (lines[l] ?? "").slice(0, SCAN_LINE);
    if (text.length > budget.left) return undefined;
    found = lastDefinition(text, budget);
  }
  if (parsed.names.size < 5_000) parsed.names.set(key, found);
  return found;
}

/**
 * The name of the function around an original position, read back from the original source: the
 * last definition before the column on its own line, else the nearest one above. Undefined when
 * the event's scan budget ran out before the answer was known.
 */
function enclosingName(
  parsed: ParsedMap,
  source: number,
  lines: string[] | null,
  line: number,
  column: number,
  budget: ScanBudget,
): string | null | undefined {
  if (!lines) return null;
  const own = (lines[line] ?? "").slice(0, Math.min(SCAN_LINE, column + 1));
  if (own.length > budget.left) return undefined;
  return lastDefinition(own, budget) ?? definitionAbove(parsed, source, lines, line, budget);
}

/** Mapped frames per position, once per map: a repeated bug maps its frames from here. */
function memoMapFrame(
  frame: StackFrame,
  parsed: ParsedMap,
  withContext: boolean,
  budget: ScanBudget,
): ReturnType<typeof mapFrame> {
  const key = `${frame.lineno}:${frame.colno}:${withContext ? 1 : 0}:${frame.inApp === false ? 0 : 1}`;
  let hit = parsed.frames.get(key) as ReturnType<typeof mapFrame> | undefined;
  if (hit === undefined) {
    hit = mapFrame(frame, parsed, withContext, budget);
    // A frame whose name search was cut short is not kept: it would stay nameless for good.
    if (parsed.frames.size < 2_000 && !("partial" in hit && hit.partial)) parsed.frames.set(key, hit);
  }
  return hit;
}

interface Mapped {
  fields: MappedFields;
  /** The original name at the frame's own position (the callee's name when the frame is a call). */
  callName: string | null;
  /** The function name was not searched for: the event's scan budget ran out. */
  partial?: true;
}

function mapFrame(
  frame: StackFrame,
  parsed: ParsedMap,
  withContext: boolean,
  budget: ScanBudget,
): Mapped | { r: UnmappedReason; d: string } {
  const line = frame.lineno;
  const column = frame.colno;
  if (line === null || column === null || line < 1 || column < 1)
    return { r: "no_location", d: "the frame has no line and column" };
  let pos: ReturnType<typeof originalPositionFor>;
  try {
    pos = originalPositionFor(parsed.map, { line, column: column - 1 });
  } catch (err) {
    return {
      r: "bad_map",
      d: `the source map cannot be read: ${String((err as Error)?.message).slice(0, 120)}`,
    };
  }
  if (pos.source === null || pos.line === null || pos.column === null)
    return {
      r: "out_of_range",
      d: `line ${line}, column ${column} has no mapping in the source map (wrong map for this file?)`,
    };
  const index = parsed.sourceIndex.get(pos.source) ?? -1;
  const rawSource = index >= 0 ? (parsed.map.sources[index] ?? pos.source) : pos.source;
  const lines = index >= 0 ? linesOf(parsed, index) : null;
  const at = pos.line - 1;
  const path = cleanSourcePath(rawSource);
  const context = withContext && lines !== null && at < lines.length;
  const name = enclosingName(parsed, index, lines, at, pos.column, budget);
  return {
    callName: pos.name,
    ...(name === undefined ? { partial: true as const } : {}),
    fields: {
      filename: path,
      absPath: rawSource.slice(0, 1000),
      function: name ?? null,
      lineno: pos.line,
      colno: pos.column + 1,
      inApp: !isVendorPath(path) && frame.inApp !== false,
      contextLine: context ? clip(lines[at]!) : null,
      preContext: context ? lines.slice(Math.max(0, at - CONTEXT), at).map(clip) : [],
      postContext: context ? lines.slice(at + 1, at + 1 + CONTEXT).map(clip) : [],
    },
  };
}

export interface SymbolicateOptions {
  /** Time (ms since epoch, by `now`) after which the remaining frames are left unmapped. */
  deadline?: number;
  now?: () => number;
  /** The name search's allowance for this event (default NAME_SCAN_CHARS). */
  budget?: ScanBudget;
}

/**
 * Maps every JavaScript frame of an event (caller → callee order kept). A frame's function is the
 * definition around its original position, else the name its caller called it by.
 */
export async function symbolicateEvent(
  event: CanonicalEvent,
  debugIds: Map<string, string>,
  resolver: MapResolver,
  options: SymbolicateOptions = {},
): Promise<SymbolicationRecord | null> {
  const { deadline, now = Date.now } = options;
  const budget = options.budget ?? { left: NAME_SCAN_CHARS };
  let any = false;
  // Frames of one file share one look-up: a 20-frame stack in one bundle resolves once.
  const files = new Map<string | null, ReturnType<MapResolver["resolve"]>>();
  const record: SymbolicationRecord = { v: 1, frames: [] };
  for (const exc of event.exceptions) {
    const results: SymbolicationRecord["frames"][number] = [];
    const mapped: (Mapped | null)[] = [];
    for (let i = 0; i < exc.frames.length; i++) {
      const frame = exc.frames[i]!;
      if (!isJsFrame(frame, event.platform)) {
        results.push(null);
        mapped.push(null);
        continue;
      }
      any = true;
      // Checked per frame, so a run that keeps working past the budget stops (see resolver.ts for
      // why the clock alone cannot be relied on inside workerd).
      if (deadline !== undefined && now() > deadline) {
        results.push({ r: "unavailable", d: "not mapped: the event's symbolication time ran out" });
        mapped.push(null);
        continue;
      }
      const url = frame.absPath ?? frame.filename;
      let pending = files.get(url);
      if (pending === undefined) {
        pending = resolver.resolve({ url: tildeUrl(url), debugId: url ? (debugIds.get(url) ?? null) : null });
        files.set(url, pending);
      }
      const found = await pending;
      if ("reason" in found) {
        results.push({ r: found.reason, d: found.detail });
        mapped.push(null);
        continue;
      }
      const m = memoMapFrame(frame, found, i >= exc.frames.length - CONTEXT_FRAMES, budget);
      if ("r" in m) {
        results.push(m);
        mapped.push(null);
      } else {
        results.push({ m: m.fields });
        mapped.push(m);
      }
    }
    // Without a definition around it (an anonymous function), a frame takes the original name its
    // caller called it by: the call site's mapped name (frame i-1 called frame i).
    for (let i = 1; i < mapped.length; i++) {
      const caller = mapped[i - 1];
      const self = results[i];
      if (caller?.callName && self && "m" in self && self.m.function === null)
        self.m = { ...self.m, function: caller.callName }; // the memoized fields are shared
    }
    record.frames.push(results);
  }
  if (!any) return null;
  applySymbolication(event, record);
  return record;
}

/** Rewrites an event's frames from a record; the minified frame is kept as `minified`. */
export function applySymbolication(event: CanonicalEvent, record: unknown): void {
  const frames = (record as SymbolicationRecord | null)?.frames;
  if (!Array.isArray(frames)) return;
  event.exceptions.forEach((exc, e) => {
    const results = frames[e];
    if (!Array.isArray(results)) return;
    exc.frames = exc.frames.map((frame, i) => {
      const r = results[i];
      if (!r || typeof r !== "object") return frame;
      const minified = {
        filename: frame.filename,
        function: frame.function,
        lineno: frame.lineno,
        colno: frame.colno,
      };
      if ("m" in r && r.m) {
        // Built field by field: a spread of two frames per frame was the hot spot of this path.
        const m = r.m;
        return {
          filename: m.filename,
          function: m.function,
          module: null,
          lineno: m.lineno,
          colno: m.colno,
          inApp: m.inApp,
          contextLine: m.contextLine,
          absPath: m.absPath,
          preContext: m.preContext,
          postContext: m.postContext,
          minified,
        };
      }
      if ("r" in r) return { ...frame, unmapped: `${r.r}: ${r.d}` };
      return frame;
    });
  });
}
