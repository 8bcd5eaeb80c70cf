// Content-Encodings for the hostile-input suites, the same bytes in workerd and in Node: gzip and
// deflate (CompressionStream), brotli (node:zlib), and zstd frames written here from raw and RLE
// blocks (Node 20 has no zstd encoder; the frame format is simple enough to emit valid frames and
// bombs: one 4-byte RLE block stands for 128 KiB of output).
import { brotliCompressSync, constants } from "node:zlib";

export type Format = "gzip" | "deflate" | "br" | "zstd";

const enc = new TextEncoder();
const MiB = 1024 * 1024;

const bytesOf = (body: string | Uint8Array): Uint8Array =>
  typeof body === "string" ? enc.encode(body) : body;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

async function viaStream(bytes: Uint8Array, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function brotli(bytes: Uint8Array): Uint8Array {
  // Quality 4: real SDKs' level of effort, and cheap enough for thousands of generated bodies.
  return new Uint8Array(brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }));
}

/** zstd block size limit (and the window this frame declares): 128 KiB. */
const ZSTD_BLOCK = 128 * 1024;
// Magic number, frame header descriptor 0 (no content size, no checksum, no dictionary), and a
// window descriptor of 2^17 bytes (exponent 7), so any block may hold the maximum 128 KiB.
const ZSTD_HEADER = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);

function zstdBlockHeader(last: boolean, type: 0 | 1, size: number): Uint8Array {
  const v = (last ? 1 : 0) | (type << 1) | (size << 3);
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]);
}

/** A valid zstd frame of raw (stored) blocks: decodable by any zstd decoder. */
export function zstdFrame(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [ZSTD_HEADER];
  if (bytes.byteLength === 0) parts.push(zstdBlockHeader(true, 0, 0));
  for (let at = 0; at < bytes.byteLength; at += ZSTD_BLOCK) {
    const chunk = bytes.subarray(at, at + ZSTD_BLOCK);
    parts.push(zstdBlockHeader(at + ZSTD_BLOCK >= bytes.byteLength, 0, chunk.byteLength), chunk);
  }
  return concat(parts);
}

/** A zstd frame that inflates to `mib` MiB of `byte` from 4 bytes per 128 KiB (RLE blocks). */
export function zstdBomb(mib: number, byte = 0x20): Uint8Array {
  const blocks = (mib * MiB) / ZSTD_BLOCK;
  const parts: Uint8Array[] = [ZSTD_HEADER];
  for (let i = 0; i < blocks; i++)
    parts.push(zstdBlockHeader(i === blocks - 1, 1, ZSTD_BLOCK), new Uint8Array([byte]));
  return concat(parts);
}

/** Compresses for real in `format`. */
export async function compress(body: string | Uint8Array, format: Format): Promise<Uint8Array> {
  const bytes = bytesOf(body);
  if (format === "br") return brotli(bytes);
  if (format === "zstd") return zstdFrame(bytes);
  return viaStream(bytes, format);
}

const bombs = new Map<string, Promise<Uint8Array>>();

/** `mib` MiB of one byte (spaces: still JSON whitespace once inflated), compressed in `format`. */
export function bomb(format: Format, mib: number): Promise<Uint8Array> {
  const key = `${format}:${mib}`;
  let made = bombs.get(key);
  if (!made) {
    made = makeBomb(format, mib);
    bombs.set(key, made);
  }
  return made;
}

async function makeBomb(format: Format, mib: number): Promise<Uint8Array> {
  if (format === "zstd") return zstdBomb(mib);
  if (format === "br") {
    return new Uint8Array(
      brotliCompressSync(new Uint8Array(mib * MiB).fill(0x20), {
        params: { [constants.BROTLI_PARAM_QUALITY]: 1 },
      }),
    );
  }
  const chunk = new Uint8Array(MiB).fill(0x20);
  let i = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i++ < mib) c.enqueue(chunk);
      else c.close();
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(new CompressionStream(format))).arrayBuffer());
}

/**
 * The legacy store endpoint's old-SDK body, base64(zlib(json)), as a bomb: a JSON event whose one
 * string inflates to `mib` MiB, in a body of a few tens of KB.
 */
export async function base64ZlibBomb(mib: number): Promise<string> {
  const head = enc.encode('{"message":"store bomb","extra":{"pad":"');
  const tail = enc.encode('"}}');
  const pad = new Uint8Array(MiB).fill(0x61);
  let i = -1;
  const source = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i === -1) c.enqueue(head);
      else if (i < mib) c.enqueue(pad);
      else if (i === mib) c.enqueue(tail);
      else c.close();
      i++;
    },
  });
  const zlib = new Uint8Array(
    await new Response(source.pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );
  let bin = "";
  for (let at = 0; at < zlib.byteLength; at += 0x8000)
    bin += String.fromCharCode(...zlib.subarray(at, at + 0x8000));
  return btoa(bin);
}
