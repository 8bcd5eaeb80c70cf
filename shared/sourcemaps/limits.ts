// Size limits of source-map uploads, shared by the upload routes (which answer 413 past them) and
// the bundle reader (which refuses a bundle whose contents claim more). One place, so the chunk
// options sentry-cli reads and what the server enforces cannot disagree.
//
// Every limit is chosen so the worst legal request fits a Worker isolate (128 MB, shared with the
// runtime and the worker's own heap) with room to spare:
//
//   chunk-upload   body (16 MiB) + the parsed form's parts (16 MiB) + one inflated chunk and the
//                  copy R2 sends (2 × 4 MiB)                                        ≈ 40 MiB
//   assemble       the joined zip (24 MiB, written in place, one 4 MiB chunk in flight) + the maps
//                  it unzips to (32 MiB) + the manifest (≤ 4 MiB, its parsed tree bounded by
//                  MAX_MANIFEST_VALUES) + maps in flight to R2 (≤ 8 MiB); validating a map scans
//                  its bytes without building a string or a tree                     ≈ 70 MiB
//   Raygun upload  body (8 MiB + form overhead) + the parsed form + one copy of the map, and the
//                  map in flight to R2                                               ≈ 33 MiB
//
// Real apps fit: the README's benchmark, a 1 MB minified bundle, has a 3.9 MB map; a bundle's zip
// holds its maps deflated (a map compresses to about a third).

const MiB = 1024 * 1024;

/** sentry-cli splits bundles into chunks of this size (it reads it from the chunk options). */
export const CHUNK_SIZE = 4 * MiB;
/** Chunks per chunk-upload request, and bytes per request (chunks plus multipart overhead). */
export const CHUNKS_PER_REQUEST = 4;
export const MAX_REQUEST_SIZE = CHUNKS_PER_REQUEST * CHUNK_SIZE + 64 * 1024;
/** What the chunks of one request may inflate to, together (gzip parts). */
export const MAX_REQUEST_INFLATED = CHUNKS_PER_REQUEST * CHUNK_SIZE;
/** One assembled artifact bundle (zip), and the source maps inside it once unzipped. */
export const MAX_BUNDLE_SIZE = 24 * MiB;
export const MAX_UNZIPPED_SIZE = 32 * MiB;
/** One source map, uploaded alone (Raygun) or inside a bundle. */
export const MAX_MAP_SIZE = 8 * MiB;
/** Files per bundle. */
export const MAX_BUNDLE_FILES = 5000;
/**
 * A bundle's manifest.json, and the JSON values in it: about six per file (entry, type, url,
 * headers, debug-id, sourcemap), so a parsed manifest stays a few MiB however it is written.
 */
export const MAX_MANIFEST_SIZE = 4 * MiB;
export const MAX_MANIFEST_VALUES = 12 * MAX_BUNDLE_FILES + 1000;
/** Chunks one assemble request may name (MAX_BUNDLE_SIZE / CHUNK_SIZE, rounded up). */
export const MAX_ASSEMBLE_CHUNKS = Math.ceil(MAX_BUNDLE_SIZE / CHUNK_SIZE);
/** Bytes of source maps sent to R2 at once while a bundle is saved (one bigger map goes alone). */
export const MAX_PUT_IN_FLIGHT = 8 * MiB;
/** How long an uploaded chunk is kept after its last upload (the sweep deletes it then). */
export const CHUNK_TTL_MS = 86_400_000;
