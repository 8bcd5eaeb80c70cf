// Content-addressed chunks of sentry-cli uploads: each chunk is stored in R2 under chunks/<sha1>
// after its SHA-1 is checked against the name sentry-cli gave it, so a re-upload of the same bytes
// is a no-op and a corrupted chunk is refused (400) instead of poisoning a bundle. Assembling
// concatenates the named chunks and checks the whole file's SHA-1 before anything is parsed.
//
// Chunks are shared by every project and every concurrent upload, so nothing deletes them after an
// assemble: the sweep removes them CHUNK_TTL_MS after their last upload, and a chunk older than
// half that is reported missing, so sentry-cli uploads it again (refreshing it) instead of counting
// on a chunk the sweep may take before the assemble that needs it.

import { createHash } from "node:crypto";
import { decodeStream } from "../http/decompress";
import { ClientError } from "../http/errors";
import {
  CHUNK_SIZE,
  CHUNK_TTL_MS,
  CHUNKS_PER_REQUEST,
  MAX_ASSEMBLE_CHUNKS,
  MAX_REQUEST_INFLATED,
} from "./limits";

const SHA1 = /^[0-9a-f]{40}$/;

/** The age past which a chunk counts as missing: it outlives any assemble that is told it is present. */
export const CHUNK_REUPLOAD_AFTER_MS = CHUNK_TTL_MS / 2;

export const chunkKey = (sha1: string) => `chunks/${sha1}`;

export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

export function isSha1(value: unknown): boolean {
  return typeof value === "string" && SHA1.test(value);
}

const tooLarge = (message: string) => new ClientError(413, message, "too_large");

/** Feeds a gzip chunk's inflated bytes to `sink`, refusing output past CHUNK_SIZE. */
async function gunzipBounded(data: Blob, sink: (bytes: Uint8Array) => void): Promise<number> {
  let size = 0;
  try {
    await decodeStream(data.stream(), "gzip", (chunk) => {
      size += chunk.byteLength;
      if (size > CHUNK_SIZE) throw tooLarge(`a chunk inflates past the chunk size of ${CHUNK_SIZE} bytes`);
      sink(chunk);
    });
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError(400, `chunk is not valid gzip: ${(err as Error).message}`, "invalid");
  }
  return size;
}

/** A gzip chunk inflated into one buffer (at most CHUNK_SIZE). */
async function gunzip(data: Blob): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const size = await gunzipBounded(data, (p) => parts.push(p));
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

interface Part {
  sha1: string;
  gzip: boolean;
  blob: Blob;
}

/** The request's chunk parts, checked for count, names and raw size before anything is inflated. */
function chunkParts(form: FormData): Part[] {
  const parts: Part[] = [];
  for (const [field, entry] of form.entries()) {
    if (field !== "file" && field !== "file_gzip") continue;
    if (typeof entry === "string")
      throw new ClientError(400, `form field ${field} must be a file`, "invalid");
    const blob = entry as unknown as Blob & { name: string };
    const sha1 = blob.name.toLowerCase();
    if (!isSha1(sha1))
      throw new ClientError(400, `chunk name "${sha1.slice(0, 60)}" is not a SHA-1 checksum`, "invalid");
    if (field === "file" && blob.size > CHUNK_SIZE)
      throw tooLarge(`chunk ${sha1} is larger than the chunk size of ${CHUNK_SIZE} bytes`);
    parts.push({ sha1, gzip: field === "file_gzip", blob });
  }
  // The advertised chunksPerRequest, enforced: sentry-cli never sends more.
  if (parts.length > CHUNKS_PER_REQUEST)
    throw tooLarge(`${parts.length} chunks in one request; the limit is ${CHUNKS_PER_REQUEST}`);
  if (parts.length === 0)
    throw new ClientError(400, "no chunks: send multipart `file_gzip` or `file` parts", "invalid");
  // A chunk named twice is stored once (and inflated once per pass).
  return [...new Map(parts.map((p) => [p.sha1, p])).values()];
}

/**
 * Stores the chunks of one chunk-upload request (multipart: `file` or `file_gzip` parts named by
 * their SHA-1). Every chunk is checked before any is written, so a bad request writes nothing; the
 * check hashes each chunk as it inflates, and the write inflates it again, so at most one chunk is
 * held at a time (holding them all let a few KiB of gzip parts take hundreds of MiB).
 */
export async function storeChunks(blobs: R2Bucket, form: FormData): Promise<number> {
  const parts = chunkParts(form);
  let inflated = 0;
  for (const p of parts) {
    const hash = createHash("sha1");
    if (p.gzip) inflated += await gunzipBounded(p.blob, (bytes) => hash.update(bytes));
    else {
      hash.update(new Uint8Array(await p.blob.arrayBuffer()));
      inflated += p.blob.size;
    }
    if (inflated > MAX_REQUEST_INFLATED)
      throw tooLarge(`the chunks of one request inflate past ${MAX_REQUEST_INFLATED} bytes`);
    const actual = hash.digest("hex");
    if (actual !== p.sha1)
      throw new ClientError(
        400,
        `chunk checksum mismatch: named ${p.sha1}, content hashes to ${actual}`,
        "invalid",
      );
  }
  for (const p of parts)
    await blobs.put(chunkKey(p.sha1), p.gzip ? await gunzip(p.blob) : await p.blob.arrayBuffer());
  return parts.length;
}

/** The named chunks not in R2, or too close to the sweep to count on (see CHUNK_REUPLOAD_AFTER_MS). */
export async function missingChunks(blobs: R2Bucket, sha1s: string[], now = Date.now()): Promise<string[]> {
  const present = await Promise.all(sha1s.map((s) => blobs.head(chunkKey(s))));
  return sha1s.filter((_, i) => {
    const obj = present[i];
    return !obj || now - obj.uploaded.getTime() > CHUNK_REUPLOAD_AFTER_MS;
  });
}

export type Joined = { bytes: Uint8Array } | { missing: string[] } | { error: string };

/**
 * Concatenates chunks into the file they make, written in place (one chunk read at a time), or
 * the chunks that are missing, or the reason it cannot be made (checksum, size).
 */
export async function joinChunks(
  blobs: R2Bucket,
  checksum: string,
  sha1s: string[],
  maxSize: number,
): Promise<Joined> {
  if (sha1s.length > MAX_ASSEMBLE_CHUNKS)
    return { error: `more than ${MAX_ASSEMBLE_CHUNKS} chunks (${maxSize} bytes)` };
  const heads = await Promise.all(sha1s.map((s) => blobs.head(chunkKey(s))));
  const missing = [...new Set(sha1s.filter((_, i) => heads[i] === null))];
  if (missing.length > 0) return { missing };
  const size = heads.reduce((sum, h) => sum + (h?.size ?? 0), 0);
  if (size > maxSize) return { error: `the assembled file is larger than the limit of ${maxSize} bytes` };
  const out = new Uint8Array(size);
  const hash = createHash("sha1");
  let at = 0;
  for (const [i, s] of sha1s.entries()) {
    const obj = await blobs.get(chunkKey(s));
    if (!obj) return { missing: [s] }; // swept between the head and the read
    const bytes = new Uint8Array(await obj.arrayBuffer());
    if (bytes.byteLength !== heads[i]?.size) return { error: `chunk ${s} changed while it was read` };
    out.set(bytes, at);
    hash.update(bytes);
    at += bytes.byteLength;
  }
  const actual = hash.digest("hex");
  if (actual !== checksum)
    return { error: `checksum mismatch: the chunks hash to ${actual}, not ${checksum}` };
  return { bytes: out };
}
