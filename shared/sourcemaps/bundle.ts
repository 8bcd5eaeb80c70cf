// Reads a sentry-cli artifact bundle: a zip holding `manifest.json` (org, project, release, dist,
// and per file its type, `~/` URL and headers such as `debug-id` and `sourcemap`) and the files.
// Only minified sources and source maps matter for symbolication; everything else is skipped
// unread. Sizes are checked against the zip's directory before anything is inflated, and JSON is
// checked by scanning its bytes (scanJson) before anything is parsed: JSON.parse of a hostile
// document holds about twenty times its size in heap.

import { unzipSync } from "fflate";
import { ClientError } from "../http/errors";
import { normalizeUuid } from "../ids";
import {
  MAX_BUNDLE_FILES,
  MAX_MANIFEST_SIZE,
  MAX_MANIFEST_VALUES,
  MAX_MAP_SIZE,
  MAX_UNZIPPED_SIZE,
} from "./limits";
import { resolveMapUrl, tildeUrl } from "./urls";

export type ArtifactKind = "minified_source" | "source_map";

export interface BundleFile {
  url: string;
  kind: ArtifactKind;
  debugId: string | null;
  /** Minified sources: the `~/` URL of their map. */
  mapUrl: string | null;
  /** Source maps only: the map's bytes (minified sources are indexed, not stored). */
  bytes: Uint8Array | null;
  size: number;
}

export interface ArtifactBundle {
  release: string;
  dist: string;
  files: BundleFile[];
}

/** A bundle that cannot be read: sentry-cli shows `detail` to its user. */
export class BundleError extends ClientError {
  constructor(message: string) {
    super(400, message, "invalid");
  }
}

interface ManifestEntry {
  type?: unknown;
  url?: unknown;
  headers?: unknown;
}

function header(headers: unknown, name: string): string | null {
  if (!headers || typeof headers !== "object") return null;
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name && typeof v === "string") return v;
  return null;
}

/** Bytes an entry can take once unzipped: a stored entry is copied whatever size it claims. */
const entrySize = (f: { size: number; originalSize: number }) => Math.max(f.size, f.originalSize);

function readManifest(zip: Uint8Array): {
  manifest: Record<string, unknown>;
  entries: Map<string, ManifestEntry>;
} {
  let raw: Uint8Array | undefined;
  try {
    raw = unzipSync(zip, {
      filter: (f) => {
        if (f.name !== "manifest.json") return false;
        if (entrySize(f) > MAX_MANIFEST_SIZE)
          throw new BundleError(`artifact bundle manifest.json is larger than ${MAX_MANIFEST_SIZE} bytes`);
        return true;
      },
    })["manifest.json"];
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`artifact bundle is not a readable zip file: ${(err as Error).message}`);
  }
  if (!raw) throw new BundleError("artifact bundle has no manifest.json");
  let manifest: unknown;
  try {
    // Scanned first, so the parsed tree is bounded by its value count, not its shape.
    scanJson(raw, MAX_MANIFEST_VALUES);
    manifest = JSON.parse(new TextDecoder().decode(raw));
  } catch (err) {
    throw new BundleError(
      `artifact bundle manifest.json is not JSON (${(err as Error).message.slice(0, 120)})`,
    );
  }
  if (!manifest || typeof manifest !== "object" || Array.isArray(manifest))
    throw new BundleError("artifact bundle manifest.json is not an object");
  const files = (manifest as { files?: unknown }).files;
  const entries = new Map<string, ManifestEntry>();
  if (files && typeof files === "object") {
    for (const [path, entry] of Object.entries(files)) {
      if (entries.size >= MAX_BUNDLE_FILES)
        throw new BundleError(`artifact bundle lists more than ${MAX_BUNDLE_FILES} files`);
      if (entry && typeof entry === "object") entries.set(path, entry as ManifestEntry);
    }
  }
  return { manifest: manifest as Record<string, unknown>, entries };
}

const str = (v: unknown) => (typeof v === "string" ? v.slice(0, 200) : "");

/**
 * Parses an artifact bundle; `release`/`dist` given by the assemble request win over the manifest's.
 *
 * @example const bundle = parseArtifactBundle(zipBytes, { release: "web@1.2.0" });
 */
export function parseArtifactBundle(
  zip: Uint8Array,
  options: { release?: string | null; dist?: string | null } = {},
): ArtifactBundle {
  const { manifest, entries } = readManifest(zip);
  const wanted = new Map<string, { kind: ArtifactKind; url: string; entry: ManifestEntry }>();
  for (const [path, entry] of entries) {
    const url = tildeUrl(typeof entry.url === "string" ? entry.url : null);
    // sentry-cli files a map it cannot parse as a script: by its name it is still a map (and
    // refused as one), not a minified file.
    const kind =
      entry.type === "source_map" || (entry.type === "minified_source" && url?.endsWith(".map"))
        ? "source_map"
        : entry.type === "minified_source"
          ? "minified_source"
          : null;
    if (kind && url) wanted.set(path, { kind, url, entry });
  }
  let total = 0;
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(zip, {
      filter: (f) => {
        const w = wanted.get(f.name);
        if (w?.kind !== "source_map") return false;
        if (entrySize(f) > MAX_MAP_SIZE)
          throw new BundleError(
            `source map ${w.url} is larger than the limit of ${MAX_MAP_SIZE} bytes per map`,
          );
        total += entrySize(f);
        if (total > MAX_UNZIPPED_SIZE)
          throw new BundleError(
            `artifact bundle's source maps unzip to more than the limit of ${MAX_UNZIPPED_SIZE} bytes`,
          );
        return true;
      },
    });
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`artifact bundle is not a readable zip file: ${(err as Error).message}`);
  }
  const files: BundleFile[] = [];
  for (const [path, { kind, url, entry }] of wanted) {
    const debugId = normalizeUuid(header(entry.headers, "debug-id") ?? header(entry.headers, "debug_id"));
    if (kind === "source_map") {
      const bytes = unzipped[path];
      if (!bytes) continue; // listed in the manifest but absent from the zip
      files.push({ url, kind, debugId, mapUrl: null, bytes, size: bytes.byteLength });
    } else {
      const ref = header(entry.headers, "sourcemap") ?? header(entry.headers, "x-sourcemap");
      files.push({ url, kind, debugId, mapUrl: ref ? resolveMapUrl(url, ref) : null, bytes: null, size: 0 });
    }
  }
  return {
    release: options.release ?? str(manifest.release),
    dist: options.dist ?? str(manifest.dist),
    files,
  };
}

/** Checks that bytes are a source map trace-mapping can read; the reason when they are not. */
export function sourceMapProblem(bytes: Uint8Array): string | null {
  let shape: JsonShape;
  try {
    shape = scanJson(bytes);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return `not JSON (${err.message})`;
  }
  if (shape.root !== "object") return "not a JSON object";
  const version = shape.members.get("version");
  if (version?.kind !== "number" || version.number !== 3) return "not a version 3 source map";
  if (shape.members.get("mappings")?.kind !== "string" && shape.members.get("sections")?.kind !== "array")
    return "has no mappings";
  return null;
}

export class JsonSyntaxError extends Error {}

type JsonKind = "object" | "array" | "string" | "number" | "literal";

export interface JsonShape {
  root: JsonKind;
  /** JSON values in the document, containers and members included. */
  values: number;
  /** The root object's members (last one wins, as in JSON.parse); numbers with their value. */
  members: Map<string, { kind: JsonKind; number?: number }>;
}

const MAX_DEPTH = 512;
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]); // " \ / b f n r t
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
const isHex = (c: number | undefined) =>
  c !== undefined && (isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

/**
 * Checks that UTF-8 bytes are one JSON document (RFC 8259, as JSON.parse reads them) without
 * building a string or a value: its memory is its nesting depth. Throws a JsonSyntaxError naming
 * the byte offset, or past `maxValues` values.
 */
export function scanJson(b: Uint8Array, maxValues = Number.POSITIVE_INFINITY): JsonShape {
  const n = b.length;
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // TextDecoder drops a BOM too
  let values = 0;
  const members: JsonShape["members"] = new Map();
  const fail = (what: string): never => {
    throw new JsonSyntaxError(i >= n ? `unexpected end of input (${what})` : `${what} at byte ${i}`);
  };
  const space = () => {
    while (i < n && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  };
  const expect = (c: number, what: string) => {
    space();
    if (b[i] !== c) fail(`expected ${what}`);
    i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = b[i++]!;
      if (c === 0x22) return;
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) continue;
      const e = b[i++];
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHex(b[i++])) fail("bad \\u escape");
      } else if (e === undefined || !ESCAPES.has(e)) fail("bad escape");
    }
  };
  const digits = () => {
    if (!isDigit(b[i])) fail("expected a digit");
    while (isDigit(b[i])) i++;
  };
  const number = () => {
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else digits();
    if (b[i] === 0x2e) {
      i++;
      digits();
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      digits();
    }
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) if (b[i++] !== word.charCodeAt(k)) fail("unexpected character");
  };
  const value = (depth: number): JsonKind => {
    space();
    if (++values > maxValues) fail(`more than ${maxValues} values`);
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
    const c = b[i];
    if (c === 0x7b || c === 0x5b) {
      const object = c === 0x7b;
      const close = object ? 0x7d : 0x5d;
      i++;
      space();
      if (b[i] === close) {
        i++;
        return object ? "object" : "array";
      }
      for (;;) {
        if (object) {
          space();
          if (b[i] !== 0x22) fail("expected a member name");
          const keyAt = i;
          string();
          const keyEnd = i;
          expect(0x3a, ":");
          space();
          const valueAt = i;
          const kind = value(depth + 1);
          // Only the root's short names matter (version, mappings, sections): decoded alone.
          if (depth === 0 && keyEnd - keyAt <= 66) {
            const key = JSON.parse(new TextDecoder().decode(b.subarray(keyAt, keyEnd))) as string;
            const text = kind === "number" ? new TextDecoder().decode(b.subarray(valueAt, i)) : "";
            members.set(key, kind === "number" ? { kind, number: Number(text) } : { kind });
          }
        } else value(depth + 1);
        space();
        if (b[i] === close) {
          i++;
          return object ? "object" : "array";
        }
        if (b[i] !== 0x2c) fail(`expected , or ${object ? "}" : "]"}`);
        i++;
      }
    }
    if (c === 0x22) {
      string();
      return "string";
    }
    if (c === 0x2d || isDigit(c)) {
      number();
      return "number";
    }
    if (c === 0x74) literal("true");
    else if (c === 0x66) literal("false");
    else if (c === 0x6e) literal("null");
    else fail("unexpected character");
    return "literal";
  };
  const root = value(0);
  space();
  if (i < n) fail("unexpected data after the document");
  return { root, values, members };
}
