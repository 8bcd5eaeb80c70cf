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

const FUNCTION_DEF =
  /(?:function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(|([A-Za-z_$][\w$]*)\s*[:=]\s*(?:async\s*)?(?:function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)|^\s*(?:static\s+|async\s+|get\s+|set\s+)*([A-Za-z_$][\w$]*)\s*\([^()]*\)\s*\{)/g;
const NOT_NAMES = new Set(["if", "for", "while", "switch", "catch", "return", "function", "with"]);

/** The name of the function around an original position, read back from the original source. */
function enclosingName(lines: string[] | null, line: number, column: number): string | null {
  if (!lines) return null;
  for (let l = line; l >= Math.max(0, line - 100); l--) {
    let text = (lines[l] ?? "").slice(0, 500);
    if (l === line) text = text.slice(0, column + 1);
    let found: string | null = null;
    for (const m of text.matchAll(FUNCTION_DEF)) {
      const name = m[1] ?? m[2] ?? m[3] ?? null;
      if (name && !NOT_NAMES.has(name)) found = name;
    }
    if (found) return found;
  }
  return null;
}

/** Names are looked up per line once per map: the same frames come back with every repeat of a bug. */
function cachedName(parsed: ParsedMap, source: number, lines: string[] | null, line: number, column: number) {
  const key = `${source}:${line}:${column}`;
  let name = parsed.names.get(key);
  if (name === undefined) {
    name = enclosingName(lines, line, column);
    if (parsed.names.size < 5_000) parsed.names.set(key, name);
  }
  return name;
}

/** Mapped frames per position, once per map: a repeated bug maps its frames from here. */
function memoMapFrame(
  frame: StackFrame,
  parsed: ParsedMap,
  withContext: boolean,
): ReturnType<typeof mapFrame> {
  const key = `${frame.lineno}:${frame.colno}:${withContext ? 1 : 0}:${frame.inApp === false ? 0 : 1}`;
  let hit = parsed.frames.get(key) as ReturnType<typeof mapFrame> | undefined;
  if (hit === undefined) {
    hit = mapFrame(frame, parsed, withContext);
    if (parsed.frames.size < 2_000) parsed.frames.set(key, hit);
  }
  return hit;
}

interface Mapped {
  fields: MappedFields;
  /** The original name at the frame's own position (the callee's name when the frame is a call). */
  callName: string | null;
}

function mapFrame(
  frame: StackFrame,
  parsed: ParsedMap,
  withContext: boolean,
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
  return {
    callName: pos.name,
    fields: {
      filename: path,
      absPath: rawSource.slice(0, 1000),
      function: cachedName(parsed, index, lines, at, pos.column),
      lineno: pos.line,
      colno: pos.column + 1,
      inApp: !isVendorPath(path) && frame.inApp !== false,
      contextLine: context ? clip(lines[at]!) : null,
      preContext: context ? lines.slice(Math.max(0, at - CONTEXT), at).map(clip) : [],
      postContext: context ? lines.slice(at + 1, at + 1 + CONTEXT).map(clip) : [],
    },
  };
}

/**
 * Maps every JavaScript frame of an event (caller → callee order kept). A frame's function is the
 * definition around its original position, else the name its caller called it by.
 */
export async function symbolicateEvent(
  event: CanonicalEvent,
  debugIds: Map<string, string>,
  resolver: MapResolver,
): Promise<SymbolicationRecord | null> {
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
      const m = memoMapFrame(frame, found, i >= exc.frames.length - CONTEXT_FRAMES);
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
