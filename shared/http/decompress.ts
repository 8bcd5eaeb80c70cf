// Content-Encoding decoders for request bodies (the edge's "decode" step, before any parsing).
// Every decoder streams into a sink that may throw to stop it, so a decompression bomb costs at
// most the caller's limit plus one chunk, never the bomb's full size.

import * as zlib from "node:zlib";

/** The encodings a body may arrive in, as named in 415 messages. */
export const SUPPORTED_ENCODINGS = "gzip, deflate, br, zstd";

/** Receives each decoded chunk; throwing stops the decoder (the error is rethrown unchanged). */
export type Sink = (chunk: Uint8Array) => void;

/** A decoder's own failure (corrupt or truncated input), as opposed to the sink refusing bytes. */
export class DecodeError extends Error {
  override name = "DecodeError";
  /** A cause worth telling the sender (the decoders' own messages are mostly opaque). */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

// DecompressionStream covers these natively; "deflate" is zlib-wrapped, as HTTP's deflate means.
const WEB_FORMATS: Record<string, "gzip" | "deflate"> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
};

// RFC 8878 §3.1.1.1.2 (and browsers): HTTP zstd decoders need not accept windows over 8 MiB. Without
// this cap a 20-byte frame can make the decoder allocate a 128 MiB window before any output.
const ZSTD_WINDOW_LOG_MAX = 23;

// workerd's node:zlib hands out one output chunk per (synchronous, recursive) callback, so a single
// input chunk that inflates to N chunks nests N calls deep: 16 KiB chunks overflow the stack near
// 16 MiB. 256 KiB chunks keep the 20 MiB envelope cap at 80 levels.
const NODE_CHUNK_SIZE = 256 * 1024;

interface NodeDecoder {
  on(event: "data", fn: (chunk: Uint8Array) => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  on(event: "end" | "close" | "drain", fn: () => void): unknown;
  off(event: "drain" | "close", fn: () => void): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
}

// zstd is in workerd's node:zlib (and Node >= 22.15) but not in Node 20's type definitions.
const zstd = zlib as unknown as {
  createZstdDecompress?: (options: { chunkSize: number; params: Record<number, number> }) => NodeDecoder;
  constants: { ZSTD_d_windowLogMax?: number };
};

const NODE_DECODERS: Record<string, () => NodeDecoder> = {
  br: () => zlib.createBrotliDecompress({ chunkSize: NODE_CHUNK_SIZE }) as unknown as NodeDecoder,
  zstd: () => {
    if (!zstd.createZstdDecompress || zstd.constants.ZSTD_d_windowLogMax === undefined) {
      throw new DecodeError("zstd is not available in this runtime");
    }
    return zstd.createZstdDecompress({
      chunkSize: NODE_CHUNK_SIZE,
      params: { [zstd.constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX },
    });
  },
};

/** Whether `encoding` (lower-cased, trimmed; "" or "identity" for none) can be decoded. */
export function isSupportedEncoding(encoding: string): boolean {
  return (
    encoding === "" ||
    encoding === "identity" ||
    Object.hasOwn(WEB_FORMATS, encoding) ||
    Object.hasOwn(NODE_DECODERS, encoding)
  );
}

/**
 * Decodes `source` per `encoding` into `sink`. Rejects with the sink's own error when it throws,
 * or with a DecodeError when the input is corrupt, truncated or in an unsupported encoding.
 *
 * @example await decodeStream(request.body, "br", (chunk) => chunks.push(chunk))
 */
export async function decodeStream(
  source: ReadableStream<Uint8Array>,
  encoding: string,
  sink: Sink,
  options: { maxOutput?: number } = {},
): Promise<void> {
  if (encoding === "br" || encoding === "zstd") {
    return decodeWhole(source, encoding, sink, options.maxOutput ?? DEFAULT_MAX_OUTPUT);
  }
  let stream = source;
  if (encoding !== "" && encoding !== "identity") {
    const format = Object.hasOwn(WEB_FORMATS, encoding) ? WEB_FORMATS[encoding] : undefined;
    if (!format) throw new DecodeError(`unsupported encoding "${encoding}"`);
    stream = decompress(source, format);
  }
  const reader = stream.getReader();
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (err) {
      throw new DecodeError(String((err as Error)?.message ?? err));
    }
    if (result.done) return;
    try {
      sink(result.value);
    } catch (err) {
      await reader.cancel().catch(() => {});
      throw err;
    }
  }
}

/** The decoded size past which br/zstd decoding stops when the caller names no limit. */
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

/** Thrown when br/zstd output would exceed `maxOutput`: the caller answers 413. */
export class OutputTooLargeError extends DecodeError {
  override name = "OutputTooLargeError";
}

/**
 * br and zstd: the (already bounded) compressed input is collected, then decoded in one native
 * call with `maxOutputLength`, so a bomb stops inside the decoder at the limit. The streaming
 * node:zlib decoders, stopped mid-output by destroy(), crashed workerd under wrangler dev (found by
 * the HTTP hostile suite: "worker restarted mid-request" on a 64 MiB br bomb).
 */
async function decodeWhole(
  source: ReadableStream<Uint8Array>,
  encoding: "br" | "zstd",
  sink: Sink,
  maxOutput: number,
): Promise<void> {
  const reader = source.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (err) {
      throw new DecodeError(String((err as Error)?.message ?? err));
    }
    if (result.done) break;
    parts.push(result.value);
    size += result.value.byteLength;
  }
  const input = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    input.set(p, at);
    at += p.byteLength;
  }
  let out: Uint8Array;
  try {
    out = decodeSync(encoding, input, maxOutput + 1);
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    if (e.code === "ERR_BUFFER_TOO_LARGE" || e.name === "RangeError") {
      throw new OutputTooLargeError(`decoded ${encoding} output exceeds ${maxOutput} bytes`);
    }
    if (err instanceof DecodeError) throw err;
    const message = String(e.message ?? err);
    throw new DecodeError(
      message,
      /too much memory/i.test(message)
        ? `window larger than ${2 ** (ZSTD_WINDOW_LOG_MAX - 20)} MiB`
        : undefined,
    );
  }
  if (out.byteLength > 0) sink(out);
}

function decodeSync(encoding: "br" | "zstd", input: Uint8Array, maxOutputLength: number): Uint8Array {
  if (encoding === "br") return zlib.brotliDecompressSync(input, { maxOutputLength });
  const z = zlib as unknown as {
    zstdDecompressSync?: (buf: Uint8Array, options: object) => Uint8Array;
    constants: { ZSTD_d_windowLogMax?: number };
  };
  if (!z.zstdDecompressSync || z.constants.ZSTD_d_windowLogMax === undefined) {
    throw new DecodeError("zstd is not available in this runtime");
  }
  return z.zstdDecompressSync(input, {
    maxOutputLength,
    params: { [z.constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX },
  });
}

/**
 * `source` through a DecompressionStream, fed by hand rather than by pipeThrough: a corrupt or
 * truncated body (or a reader that stops early) rejects the writer's `write`/`close`, and workerd
 * reports a rejection left inside a pipe as an uncaught exception. Here it is caught: the readable
 * side errors (or was cancelled) and the reader in decodeStream reports it as a DecodeError.
 */
function decompress(
  source: ReadableStream<Uint8Array>,
  format: "gzip" | "deflate",
): ReadableStream<Uint8Array> {
  const ds = new DecompressionStream(format);
  const writer = ds.writable.getWriter();
  const input = source.getReader();
  (async () => {
    try {
      for (;;) {
        const { done, value } = await input.read();
        if (done) break;
        await writer.write(value);
      }
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
      await input.cancel(err).catch(() => {});
    }
  })();
  return ds.readable;
}
