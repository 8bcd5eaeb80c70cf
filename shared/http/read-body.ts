// Reads a request body with a byte limit enforced while streaming, after decoding any
// Content-Encoding (gzip, x-gzip, deflate, br, zstd), so a decompression bomb ends in 413, never in
// an out-of-memory. Workers never decompress request bodies themselves.

import { DecodeError, decodeStream, isSupportedEncoding, SUPPORTED_ENCODINGS } from "./decompress";
import { badRequest, ClientError, tooLarge } from "./errors";

export interface ReadBodyOptions {
  /** Maximum decoded size in bytes. */
  limit: number;
  /** Label used in error messages ("report", "envelope"). */
  what?: string;
}

/** Returns the decoded body bytes; throws ClientError (400/413/415) for bad or oversize input. */
export async function readBody(request: Request, options: ReadBodyOptions): Promise<Uint8Array> {
  const { limit, what = "body" } = options;
  const encoding = (request.headers.get("content-encoding") ?? "").trim().toLowerCase();
  const identity = encoding === "" || encoding === "identity";
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  // An uncompressed body's declared length is checked before reading a byte.
  if (identity && Number.isFinite(declared) && declared > limit) {
    throw tooLarge(`${what} of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  if (!isSupportedEncoding(encoding)) {
    throw new ClientError(
      415,
      `unsupported Content-Encoding "${encoding}": send ${SUPPORTED_ENCODINGS} or an uncompressed body`,
      "unsupported_encoding",
    );
  }
  if (!request.body) return new Uint8Array(0);
  // Fast path: an uncompressed body of known, acceptable length is read in one native call (HTTP
  // framing guarantees it is not longer than declared).
  if (identity && Number.isFinite(declared)) {
    return new Uint8Array(await request.arrayBuffer());
  }
  return readDecoded(request.body, identity ? "" : encoding, { limit, what });
}

/**
 * Decodes `source` (`encoding` "" for none) and collects it, refusing more than `limit` decoded
 * bytes with 413 as soon as they arrive; corrupt input is a 400. Also for bodies nested inside a
 * body (the store endpoint's base64+zlib events).
 */
export async function readDecoded(
  source: ReadableStream<Uint8Array>,
  encoding: string,
  options: ReadBodyOptions,
): Promise<Uint8Array> {
  const { limit, what = "body" } = options;
  const chunks: Uint8Array[] = [];
  let total = 0;
  // The compressed input is bounded too (by the same limit): input that decodes to nothing
  // (zstd skippable frames, empty gzip members, brotli metadata) must not be read to the end free.
  let raw = 0;
  let rawTooLarge = false;
  const reader = source.getReader();
  const bounded = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      raw += value.byteLength;
      if (raw > limit) {
        rawTooLarge = true;
        await reader.cancel().catch(() => {});
        return controller.error(new Error("compressed input exceeds the limit"));
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const rawError = () =>
    tooLarge(`${what} exceeds the limit of ${limit} bytes${encoding ? " before decompression" : ""}`);
  try {
    await decodeStream(bounded, encoding, (chunk) => {
      total += chunk.byteLength;
      if (total > limit) {
        throw tooLarge(
          `${what} exceeds the limit of ${limit} bytes${encoding ? " after decompression" : ""}`,
        );
      }
      chunks.push(chunk);
    });
  } catch (err) {
    if (err instanceof ClientError) throw err;
    if (rawTooLarge) throw rawError();
    throw badRequest(`failed to read request body`, [
      encoding
        ? `failed to decode ${encoding} payload${err instanceof DecodeError && err.hint ? `: ${err.hint}` : ""}`
        : String((err as Error)?.message ?? err),
    ]);
  }
  if (rawTooLarge) throw rawError();
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8, rejecting invalid sequences with a 400 instead of silently replacing them. */
export function decodeUtf8(bytes: Uint8Array, what = "body"): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw badRequest(`${what} is not valid UTF-8`);
  }
}
