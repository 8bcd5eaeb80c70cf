// Reads a request body with a byte limit enforced while streaming, after decoding any
// Content-Encoding (gzip, x-gzip, deflate, br, zstd), so a decompression bomb ends in 413, never in
// an out-of-memory. Workers never decompress request bodies themselves.

import {
  DecodeError,
  decodeStream,
  isSupportedEncoding,
  OutputTooLargeError,
  SUPPORTED_ENCODINGS,
} from "./decompress";
import { badRequest, ClientError, tooLarge } from "./errors";

export interface ReadBodyOptions {
  /** Maximum decoded size in bytes. */
  limit: number;
  /** Label used in error messages ("report", "envelope"). */
  what?: string;
}

/**
 * Checks a body's Content-Encoding (415 if unsupported) and, uncompressed, its declared length
 * (413); returns the encoding to decode with ("" for none) and the declared length (NaN if none).
 */
function bodyEncoding(request: Request, limit: number, what: string): { encoding: string; declared: number } {
  const { headers } = request;
  const encoding = (headers.get("content-encoding") ?? "").trim().toLowerCase();
  const identity = encoding === "" || encoding === "identity";
  const declared = Number(headers.get("content-length") ?? "NaN");
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
  return { encoding: identity ? "" : encoding, declared };
}

/** Returns the decoded body bytes; throws ClientError (400/413/415) for bad or oversize input. */
export async function readBody(request: Request, options: ReadBodyOptions): Promise<Uint8Array> {
  const { limit, what = "body" } = options;
  const { encoding, declared } = bodyEncoding(request, limit, what);
  const body = request.body;
  if (!body) return new Uint8Array(0);
  // Fast path: an uncompressed body of known, acceptable length is read in one native call (HTTP
  // framing guarantees it is not longer than declared).
  if (encoding === "" && Number.isFinite(declared)) {
    return new Uint8Array(await request.arrayBuffer());
  }
  return readDecoded(body, encoding, { limit, what });
}

/** A body read but not yet decoded: decode it (or its first line) once the sender is known. */
export interface RawBody {
  bytes: Uint8Array;
  /** "" for none. */
  encoding: string;
  limit: number;
  what: string;
}

/**
 * Reads a body's raw bytes without decoding them (at most `limit` of them, else 413; 415 for an
 * unsupported encoding), for a caller that must authenticate from the body's first line before
 * paying for the rest: see `readFirstLine` and `decodeRaw`.
 */
export async function readRawBody(request: Request, options: ReadBodyOptions): Promise<RawBody> {
  const { limit, what = "body" } = options;
  const { encoding } = bodyEncoding(request, limit, what);
  const bytes = request.body ? await readDecoded(request.body, "", { limit, what }) : new Uint8Array(0);
  return { bytes, encoding, limit, what };
}

const FIRST_LINE_SLICE = 4096;

/**
 * Decodes a raw body only as far as its first newline (the newline excluded), or `cap` decoded bytes
 * if it comes no sooner, or its end: the decoder stops there, whatever follows.
 */
export async function readFirstLine(raw: RawBody, cap: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stop = new Error("first line read");
  try {
    // Fed in small slices, so that the decoder stops (its input too) soon after the newline.
    let at = 0;
    const slices = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (at >= raw.bytes.byteLength) return controller.close();
          controller.enqueue(raw.bytes.subarray(at, at + FIRST_LINE_SLICE));
          at += FIRST_LINE_SLICE;
        },
      },
      { highWaterMark: 0 },
    );
    await decodeStream(
      slices,
      raw.encoding,
      (chunk) => {
        const nl = chunk.indexOf(0x0a);
        const take = Math.min(nl >= 0 ? nl : chunk.byteLength, cap - total);
        chunks.push(chunk.subarray(0, take));
        total += take;
        if (nl >= 0 || total >= cap) throw stop;
      },
      // br/zstd decode whole (bounded): the envelope limit, then the first line is taken.
      { maxOutput: raw.limit },
    );
  } catch (err) {
    if (err instanceof OutputTooLargeError) {
      throw tooLarge(`${raw.what} exceeds the limit of ${raw.limit} bytes after decompression`);
    }
    if (err !== stop) {
      throw badRequest(`failed to read request body`, [
        raw.encoding
          ? `failed to decode ${raw.encoding} payload${err instanceof DecodeError && err.hint ? `: ${err.hint}` : ""}`
          : String((err as Error)?.message ?? err),
      ]);
    }
  }
  return concat(chunks, total);
}

/** Decodes a whole raw body, with `readBody`'s limit on the decoded bytes and its errors. */
export async function decodeRaw(raw: RawBody): Promise<Uint8Array> {
  // Uncompressed, the raw bytes are the body (readRawBody already held them to the limit).
  if (raw.encoding === "") return raw.bytes;
  return readDecoded(new Blob([raw.bytes]).stream(), raw.encoding, { limit: raw.limit, what: raw.what });
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
  if (encoding === "") return readPlain(source, limit, what);
  const chunks: Uint8Array[] = [];
  let total = 0;
  // The compressed input is bounded too (by the same limit): input that decodes to nothing
  // (zstd skippable frames, empty gzip members, brotli metadata) must not be read to the end free.
  let raw = 0;
  let rawTooLarge = false;
  const reader = source.getReader();
  let sourceDone = false;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  const bounded = new ReadableStream<Uint8Array>({
    async pull(controller) {
      pending = reader.read();
      const { done, value } = await pending;
      if (done) {
        sourceDone = true;
        return controller.close();
      }
      raw += value.byteLength;
      if (raw > limit) {
        rawTooLarge = true;
        return controller.error(new Error("compressed input exceeds the limit"));
      }
      controller.enqueue(value);
    },
    // The request body is not cancelled with the decoder: `finish` discards what is left of it.
  });
  const rawError = () =>
    tooLarge(`${what} exceeds the limit of ${limit} bytes${encoding ? " before decompression" : ""}`);
  // Answering before the request body is read to its end, then cancelling it, leaves the HTTP
  // connection it came on unusable: under wrangler dev the next requests on that connection (other
  // projects' too) failed with "Your worker restarted mid-request" (found by the HTTP hostile
  // suite). So a body stopped early (corrupt, or over a limit) is read on and discarded, up to
  // DISCARD_MAX bytes (no larger body reaches a Worker in production); past that it is cancelled.
  // Discarding costs wall time, not CPU: the chunks are never copied or looked at.
  const finish = async () => {
    // workerd allows one pending read on a request body: the decoder's may still be in flight.
    const last = await pending?.catch(() => ({ done: true }) as const);
    if (!sourceDone && !last?.done) await discardRest(reader, DISCARD_MAX);
  };
  try {
    await decodeStream(
      bounded,
      encoding,
      (chunk) => {
        total += chunk.byteLength;
        if (total > limit) {
          throw tooLarge(
            `${what} exceeds the limit of ${limit} bytes${encoding ? " after decompression" : ""}`,
          );
        }
        chunks.push(chunk);
      },
      { maxOutput: limit },
    );
  } catch (err) {
    await finish();
    if (err instanceof ClientError) throw err;
    if (err instanceof OutputTooLargeError) {
      throw tooLarge(`${what} exceeds the limit of ${limit} bytes after decompression`);
    }
    if (rawTooLarge) throw rawError();
    throw badRequest(`failed to read request body`, [
      encoding
        ? `failed to decode ${encoding} payload${err instanceof DecodeError && err.hint ? `: ${err.hint}` : ""}`
        : String((err as Error)?.message ?? err),
    ]);
  }
  await finish();
  if (rawTooLarge) throw rawError();
  return concat(chunks, total);
}

/**
 * An uncompressed body of unknown length, read chunk by chunk up to `limit` (then 413, the rest
 * discarded like a refused compressed body's). No stream is built around it: a ReadableStream per
 * request is a measurable share of the edge's cost.
 */
async function readPlain(
  source: ReadableStream<Uint8Array>,
  limit: number,
  what: string,
): Promise<Uint8Array> {
  const reader = source.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (err) {
      throw badRequest("failed to read request body", [String((err as Error)?.message ?? err)]);
    }
    if (result.done) break;
    total += result.value.byteLength;
    if (total > limit) {
      await discardRest(reader, DISCARD_MAX);
      throw tooLarge(`${what} exceeds the limit of ${limit} bytes`);
    }
    chunks.push(result.value);
  }
  return concat(chunks, total);
}

/** `chunks` (`total` bytes in all) as one array; a single chunk is returned as it is. */
function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Cloudflare's request body limit on the Free and Pro plans. */
const DISCARD_MAX = 100 * 1024 * 1024;

/** Reads and drops what is left of `reader` (at most `max` bytes, then cancels it). */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<void> {
  let dropped = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.byteLength;
      if (dropped > max) {
        await reader.cancel().catch(() => {});
        return;
      }
    }
  } catch {
    // The sender went away: nothing left to discard.
  }
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
