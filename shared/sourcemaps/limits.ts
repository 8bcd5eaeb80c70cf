// Size limits of source-map uploads, shared by the upload routes (which answer 413 past them) and
// the bundle reader (which refuses a bundle whose contents claim more). One place, so the chunk
// options sentry-cli reads and what the server enforces cannot disagree.

const MiB = 1024 * 1024;

/** sentry-cli splits bundles into chunks of this size (Sentry's own value). */
export const CHUNK_SIZE = 8 * MiB;
/** Chunks per chunk-upload request, and bytes per request. */
export const CHUNKS_PER_REQUEST = 4;
export const MAX_REQUEST_SIZE = 32 * MiB + 64 * 1024;
/** One assembled artifact bundle (zip), and everything inside it once unzipped. */
export const MAX_BUNDLE_SIZE = 40 * MiB;
export const MAX_UNZIPPED_SIZE = 96 * MiB;
/** One source map, uploaded alone (Raygun) or inside a bundle. */
export const MAX_MAP_SIZE = 32 * MiB;
/** Files per bundle. */
export const MAX_BUNDLE_FILES = 5000;
/** Chunks one assemble request may name (MAX_BUNDLE_SIZE / CHUNK_SIZE, rounded up). */
export const MAX_ASSEMBLE_CHUNKS = Math.ceil(MAX_BUNDLE_SIZE / CHUNK_SIZE);
