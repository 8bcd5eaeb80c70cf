// Content-addressed chunks of sentry-cli uploads: each chunk is stored in R2 under chunks/<sha1>
// after its SHA-1 is checked against the name sentry-cli gave it, so a re-upload of the same bytes
// is a no-op and a corrupted chunk is refused (400) instead of poisoning a bundle. Assembling
// concatenates the named chunks and checks the whole file's SHA-1 before anything is parsed.

import { createHash } from "node:crypto";
import { decodeStream } from "../http/decompress";
import { ClientError } from "../http/errors";
import { CHUNK_SIZE, MAX_ASSEMBLE_CHUNKS } from "./limits";

const SHA1 = /^[0-9a-f]{40}$/;

export const chunkKey = (sha1: string) => `chunks/${sha1}`;

export function sha1Hex(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

export function isSha1(value: unknown): boolean {
  return typeof value === "string" && SHA1.test(value);
}

/** Decompresses a gzip chunk, refusing output past CHUNK_SIZE. */
async function gunzipBounded(data: Blob): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    await decodeStream(data.stream(), "gzip", (chunk) => {
      size += chunk.byteLength;
      if (size > CHUNK_SIZE)
        throw new ClientError(413, `a chunk inflates past ${CHUNK_SIZE} bytes`, "too_large");
      parts.push(chunk);
    });
  } catch (err) {
    if (err instanceof ClientError) throw err;
    throw new ClientError(400, `chunk is not valid gzip: ${(err as Error).message}`, "invalid");
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Stores the chunks of one chunk-upload request (multipart: `file` or `file_gzip` parts named by
 * their SHA-1). Every chunk is checked before any is written, so a bad request writes nothing.
 */
export async function storeChunks(blobs: R2Bucket, form: FormData): Promise<number> {
  const chunks: { sha1: string; bytes: Uint8Array }[] = [];
  for (const [field, entry] of form.entries()) {
    if (field !== "file" && field !== "file_gzip") continue;
    if (typeof entry === "string")
      throw new ClientError(400, `form field ${field} must be a file`, "invalid");
    const value = entry as unknown as Blob & { name: string };
    const name = value.name.toLowerCase();
    if (!isSha1(name))
      throw new ClientError(400, `chunk name "${name.slice(0, 60)}" is not a SHA-1 checksum`, "invalid");
    if (field === "file" && value.size > CHUNK_SIZE)
      throw new ClientError(413, `chunk ${name} is larger than ${CHUNK_SIZE} bytes`, "too_large");
    const bytes =
      field === "file_gzip" ? await gunzipBounded(value) : new Uint8Array(await value.arrayBuffer());
    const actual = sha1Hex(bytes);
    if (actual !== name)
      throw new ClientError(
        400,
        `chunk checksum mismatch: named ${name}, content hashes to ${actual}`,
        "invalid",
      );
    chunks.push({ sha1: name, bytes });
  }
  if (chunks.length === 0)
    throw new ClientError(400, "no chunks: send multipart `file_gzip` or `file` parts", "invalid");
  await Promise.all(chunks.map((c) => blobs.put(chunkKey(c.sha1), c.bytes)));
  return chunks.length;
}

/** The named chunks not in R2 yet. */
export async function missingChunks(blobs: R2Bucket, sha1s: string[]): Promise<string[]> {
  const present = await Promise.all(sha1s.map((s) => blobs.head(chunkKey(s))));
  return sha1s.filter((_, i) => present[i] === null);
}

/** Concatenates chunks into the file they make, or the reason it cannot (checksum, size). */
export async function joinChunks(
  blobs: R2Bucket,
  checksum: string,
  sha1s: string[],
  maxSize: number,
): Promise<{ bytes: Uint8Array } | { error: string }> {
  if (sha1s.length > MAX_ASSEMBLE_CHUNKS)
    return { error: `more than ${MAX_ASSEMBLE_CHUNKS} chunks (${maxSize} bytes)` };
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const s of sha1s) {
    const obj = await blobs.get(chunkKey(s));
    if (!obj) return { error: `chunk ${s} is missing` };
    const bytes = new Uint8Array(await obj.arrayBuffer());
    size += bytes.byteLength;
    if (size > maxSize) return { error: `the assembled file is larger than ${maxSize} bytes` };
    parts.push(bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  const actual = sha1Hex(out);
  if (actual !== checksum)
    return { error: `checksum mismatch: the chunks hash to ${actual}, not ${checksum}` };
  return { bytes: out };
}

/** Chunks are only needed until their bundle is assembled. */
export async function deleteChunks(blobs: R2Bucket, sha1s: string[]): Promise<void> {
  if (sha1s.length > 0) await blobs.delete(sha1s.map(chunkKey));
}
