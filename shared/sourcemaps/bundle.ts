// Reads a sentry-cli artifact bundle: a zip holding `manifest.json` (org, project, release, dist,
// and per file its type, `~/` URL and headers such as `debug-id` and `sourcemap`) and the files.
// Only minified sources and source maps matter for symbolication; everything else is skipped
// unread. Sizes are checked against the zip's directory before anything is inflated.

import { unzipSync } from "fflate";
import { ClientError } from "../http/errors";
import { normalizeUuid } from "../ids";
import { MAX_BUNDLE_FILES, MAX_MAP_SIZE, MAX_UNZIPPED_SIZE } from "./limits";
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

function readManifest(zip: Uint8Array): {
  manifest: Record<string, unknown>;
  entries: Map<string, ManifestEntry>;
} {
  let raw: Uint8Array | undefined;
  try {
    raw = unzipSync(zip, { filter: (f) => f.name === "manifest.json" && f.originalSize <= 16 * 1024 * 1024 })[
      "manifest.json"
    ];
  } catch (err) {
    throw new BundleError(`artifact bundle is not a readable zip file: ${(err as Error).message}`);
  }
  if (!raw) throw new BundleError("artifact bundle has no manifest.json");
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new BundleError("artifact bundle manifest.json is not JSON");
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
        if (f.originalSize > MAX_MAP_SIZE)
          throw new BundleError(`${w.url} is larger than ${MAX_MAP_SIZE} bytes`);
        total += f.originalSize;
        if (total > MAX_UNZIPPED_SIZE)
          throw new BundleError(`artifact bundle unzips to more than ${MAX_UNZIPPED_SIZE} bytes`);
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
  let map: unknown;
  try {
    map = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return `not JSON (${(err as Error).message.slice(0, 120)})`;
  }
  if (!map || typeof map !== "object") return "not a JSON object";
  const m = map as { version?: unknown; mappings?: unknown; sections?: unknown };
  if (m.version !== 3) return "not a version 3 source map";
  if (typeof m.mappings !== "string" && !Array.isArray(m.sections)) return "has no mappings";
  return null;
}
