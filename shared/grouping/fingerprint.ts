// Grouping: which error group an event belongs to. Precedence (Sentry's): client fingerprint
// (Sentry `fingerprint`, with `{{ default }}` extending; Raygun `groupingKey` replacing) → in-app
// stack frames (module or normalized filename + function, never line/column) → exception type and
// parameter-stripped value → parameter-stripped message. Source-mapped stacks group on their
// original frames alone. The version is stored on the group, so a
// future hasher can be introduced without silently splitting existing groups.

import { createHash } from "node:crypto";
import type { CanonicalEvent, ExceptionInfo, StackFrame } from "../event";
import { withoutQuery } from "../http/without-query";

export const GROUPING_VERSION = 1;

export interface GroupingResult {
  /** 32 hex chars. */
  fingerprint: string;
  version: number;
  /** The human-readable components that were hashed (kept for debugging / tests). */
  components: string[];
  /** "function (file)" of the most relevant frame, for the group list. */
  culprit: string | null;
}

const DEFAULT_VAR = /^\{\{\s*default\s*\}\}$/i;
const VAR = /\{\{\s*([a-z_.]+)\s*\}\}/gi;

/**
 * Bounds on a client fingerprint: Sentry's is an array of strings of any size, and each entry (each
 * `{{ default }}` above all, once the whole default grouping) becomes components held in memory and
 * hashed. 64 entries of 512 characters is more than any rule or SDK sends.
 */
export const MAX_FINGERPRINT_ENTRIES = 64;
export const MAX_FINGERPRINT_ENTRY = 512;
/**
 * Exceptions the default grouping reads, nearest the raise (the last ones): a chain is a few, and a
 * 1 MB event of thousands (each with up to 250 frames) would make as many components.
 */
export const MAX_GROUPING_EXCEPTIONS = 16;

/** Strips URL host/query, directories, `.min`, and hash-like segments: `app.5AF331AD.min.js` → `app.js`. */
export function normalizeFilename(filename: string): string {
  let f = withoutQuery(filename).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  f = f.replace(/\\/g, "/");
  const base = f.slice(f.lastIndexOf("/") + 1);
  return base
    .replace(/[.-][0-9a-f]{8,}(?=\.)/gi, "")
    .replace(/\.min(?=\.)/i, "")
    .toLowerCase();
}

/** `Object.method` → `method` for JavaScript; drops `async `/`new ` prefixes and anonymous markers. */
export function normalizeFunction(fn: string | null, platform: string | null): string | null {
  if (!fn) return null;
  let f = fn.trim().replace(/^(async|new)\s+/, "");
  if (f === "?" || f === "<anonymous>" || f === "[anonymous]" || f === "anonymous") return null;
  if (platform === "javascript" || platform === "node") {
    const dot = f.lastIndexOf(".");
    if (dot >= 0 && dot < f.length - 1) f = f.slice(dot + 1);
  }
  return f;
}

/** Replaces volatile parameters (numbers, hex ids, uuids, quoted strings, emails, URLs) in messages. */
export function stripParameters(message: string): string {
  return message
    .slice(0, 1000)
    .replace(/[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/gi, "<uuid>")
    .replace(/\b[\w.+-]+@[\w-]+\.[\w.]+\b/g, "<email>")
    .replace(/\bhttps?:\/\/\S+/g, "<url>")
    .replace(/\b0x[0-9a-f]+\b/gi, "<hex>")
    .replace(/\b[0-9a-f]{12,}\b/gi, "<hex>")
    .replace(/'[^']*'|"[^"]*"/g, "<str>")
    .replace(/\b\d+(\.\d+)?\b/g, "<num>");
}

function frameComponent(frame: StackFrame, platform: string | null): string | null {
  const where = frame.module || (frame.filename ? normalizeFilename(frame.filename) : null);
  const fn = normalizeFunction(frame.function, platform);
  if (!where && !fn) return null;
  return `${where ?? ""}:${fn ?? ""}`;
}

/**
 * Frames mapped to their original source (shared/sourcemaps) stand for the stack: once any frame
 * of it is mapped, the frames left minified (another script, a browser's eval) carry only build
 * artifacts (bundle names, positions), so the same bug in a new build would split off.
 */
function originalFrames(frames: StackFrame[]): StackFrame[] {
  if (!frames.some((f) => f.minified)) return frames;
  return frames.filter((f) => f.minified);
}

function relevantFrames(all: StackFrame[]): StackFrame[] {
  const frames = originalFrames(all);
  const inApp = frames.filter((f) => f.inApp === true);
  return inApp.length > 0 ? inApp : frames;
}

function exceptionComponents(exc: ExceptionInfo, platform: string | null): string[] {
  const out: string[] = [];
  if (exc.type && !exc.mechanism?.synthetic) out.push(`type:${exc.type}`);
  let previous: string | null = null;
  for (const frame of relevantFrames(exc.frames)) {
    const c = frameComponent(frame, platform);
    if (c && c !== previous) out.push(`frame:${c}`); // recursion repeats contribute once
    previous = c;
  }
  const hasStack = out.some((c) => c.startsWith("frame:"));
  if (!hasStack && exc.value) out.push(`value:${stripParameters(exc.value)}`);
  return out;
}

function defaultComponents(event: CanonicalEvent): string[] {
  const out: string[] = [];
  for (const exc of event.exceptions.slice(-MAX_GROUPING_EXCEPTIONS))
    out.push(...exceptionComponents(exc, event.platform));
  if (out.length === 0) out.push(`message:${stripParameters(event.message || "")}`);
  return out;
}

function culpritOf(event: CanonicalEvent): string | null {
  const top = event.exceptions[event.exceptions.length - 1];
  if (!top) return event.transaction;
  const frames = relevantFrames(top.frames);
  const f = frames[frames.length - 1];
  if (!f) return null;
  const fn = f.function ?? "?";
  const where = f.module ?? f.filename;
  return where ? `${fn} (${where})`.slice(0, 200) : fn.slice(0, 200);
}

function substitute(value: string, event: CanonicalEvent): string {
  const top = event.exceptions[event.exceptions.length - 1];
  const lastFrame = top?.frames[top.frames.length - 1];
  // Each value is cut as it goes in: 40 `{{ function }}` of a 300 KB name would build 12 MB.
  return value.replace(VAR, (_m, name: string) =>
    variable(name, event, top, lastFrame).slice(0, MAX_FINGERPRINT_ENTRY),
  );
}

function variable(
  name: string,
  event: CanonicalEvent,
  top: ExceptionInfo | undefined,
  lastFrame: StackFrame | undefined,
): string {
  switch (name.toLowerCase()) {
    case "transaction":
      return event.transaction ?? "<no-transaction>";
    case "type":
    case "error.type":
      return top?.type ?? "<no-type>";
    case "function":
      return lastFrame?.function ?? "<no-function>";
    case "module":
      return lastFrame?.module ?? "<no-module>";
    case "level":
      return event.level;
    default:
      return `<unknown:${name}>`;
  }
}

/** SHA-256 hex prefix; node:crypto's synchronous hash (one native call, no promise per event). */
export async function sha256Hex(input: string, chars = 32): Promise<string> {
  return createHash("sha256").update(input).digest("hex").slice(0, chars);
}

/**
 * Recent hashes by input, one map per use. A project's events fall in few groups, the same ones
 * batch after batch, and each hash costs a native object and three calls (~1.5 µs) where a look-up
 * costs a string hash. Bounded like the scrubber's key cache: inputs up to MAX_MEMO_INPUT
 * characters, at most MAX_MEMO entries (cleared when full), so no sender can pin memory.
 */
const MAX_MEMO = 4096;
const MAX_MEMO_INPUT = 1024;
const fingerprints = new Map<string, string>();
const groupIds = new Map<string, string>();

async function memoSha256Hex(memo: Map<string, string>, input: string, chars: number): Promise<string> {
  if (input.length > MAX_MEMO_INPUT) return sha256Hex(input, chars);
  let hex = memo.get(input);
  if (hex === undefined) {
    hex = await sha256Hex(input, chars);
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(input, hex);
  }
  return hex;
}

/** Computes the fingerprint of a canonical error event. */
export async function computeFingerprint(event: CanonicalEvent): Promise<GroupingResult> {
  let components: string[];
  if (event.fingerprint && event.fingerprint.length > 0) {
    components = [];
    // `{{ default }}` stands for the default grouping once, however often it is repeated: each
    // repeat used to push all of it again (2.5 M components, ~200 MB, from a 144 KB event), and a
    // repeat adds nothing to tell groups apart. Entries are capped in number and size, and so is
    // what a variable expands to (a function name may be 300 KB).
    let expanded = false;
    for (const raw of event.fingerprint.slice(0, MAX_FINGERPRINT_ENTRIES)) {
      const part = String(raw).slice(0, MAX_FINGERPRINT_ENTRY);
      if (DEFAULT_VAR.test(part.trim())) {
        if (!expanded) components.push(...defaultComponents(event));
        expanded = true;
      } else components.push(`custom:${substitute(part, event).slice(0, MAX_FINGERPRINT_ENTRY)}`);
    }
  } else {
    components = defaultComponents(event);
  }
  const fingerprint = await memoSha256Hex(fingerprints, `v${GROUPING_VERSION}\n${components.join("\n")}`, 32);
  return { fingerprint, version: GROUPING_VERSION, components, culprit: culpritOf(event) };
}

/** The group id: stable per project and fingerprint, so writers need no look-up. */
export function groupIdFor(projectId: string, fingerprint: string): Promise<string> {
  return memoSha256Hex(groupIds, `${projectId}:${fingerprint}`, 16);
}
