// The body reader every ingestion route shares (Raygun and Sentry), on real Requests in workerd.
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { readBody } from "./read-body";

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://sluice.test/entries", { method: "POST", body, headers });
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};
// Streamed in 4 KiB chunks, as a network body arrives.
const stream = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.byteLength; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
      controller.close();
    },
  });
const report = JSON.stringify({ details: { error: { message: "boom" } } });

describe("readBody", () => {
  it("decodes br and zstd bodies like gzip ones", async () => {
    const zstd = (zlib as unknown as { zstdCompressSync(b: string): Uint8Array }).zstdCompressSync;
    for (const [encoding, body] of [
      ["gzip", zlib.gzipSync(report)],
      ["br", zlib.brotliCompressSync(report)],
      [" BR ", zlib.brotliCompressSync(report)],
      ["zstd", zstd(report)],
    ] as const) {
      const bytes = await readBody(post(body, { "content-encoding": encoding }), { limit: 1024 });
      expect(new TextDecoder().decode(bytes), encoding).toBe(report);
    }
  });

  it("applies the limit to decoded bytes: a small br body that inflates past it is a 413", async () => {
    const body = zlib.brotliCompressSync(new Uint8Array(2 * 1024 * 1024));
    expect(body.byteLength).toBeLessThan(1024);
    const err = await readBody(post(body, { "content-encoding": "br" }), {
      limit: 128 * 1024,
      what: "crash report",
    }).catch((e) => e);
    expect(err).toMatchObject({
      status: 413,
      message: `crash report exceeds the limit of ${128 * 1024} bytes after decompression`,
    });
  });

  it("bounds the compressed bytes too: input that decodes to nothing is a 413 once past the limit, never decoded to the end", async () => {
    const limit = 64 * 1024;
    // Empty non-final stored deflate blocks (what a sync flush emits): 5 bytes each, decoding to
    // nothing. A gzip stream of N of them and then an empty final block is valid and empty.
    const gzipOfEmptyBlocks = (n: number) => {
      const parts: Uint8Array[] = [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff)];
      for (let i = 0; i < n; i++) parts.push(Uint8Array.of(0, 0, 0, 0xff, 0xff));
      parts.push(Uint8Array.of(1, 0, 0, 0xff, 0xff), new Uint8Array(8));
      return concat(parts);
    };
    const big = gzipOfEmptyBlocks(Math.ceil((2 * limit) / 5));
    expect(big.byteLength).toBeGreaterThan(limit);
    const err = await readBody(post(stream(big), { "content-encoding": "gzip" }), { limit }).catch((e) => e);
    expect(err).toMatchObject({
      status: 413,
      message: `body exceeds the limit of ${limit} bytes before decompression`,
    });
    // Under the limit, the same shape is an (empty) body like any other.
    const small = await readBody(post(stream(gzipOfEmptyBlocks(100)), { "content-encoding": "gzip" }), {
      limit,
    });
    expect(small.byteLength).toBe(0);
  });

  it("reads a body it refuses part way through on to its end (discarded), never cancels it", async () => {
    // Cancelling a request body that is still arriving leaves its connection unusable: under
    // wrangler dev the next requests on it (other projects' too) failed with 503.
    const size = 1024 * 1024;
    const sent = { bytes: 0, cancelled: false };
    const garbage = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent.bytes >= size) return controller.close();
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x78));
          sent.bytes += 16 * 1024;
        },
        cancel() {
          sent.cancelled = true;
        },
      });
    for (const [encoding, limit, status] of [
      ["gzip", size, 400],
      ["deflate", size, 400],
      ["gzip", 64 * 1024, 400],
      ["", 64 * 1024, 413],
    ] as const) {
      sent.bytes = 0;
      sent.cancelled = false;
      const headers: Record<string, string> = encoding ? { "content-encoding": encoding } : {};
      const err = await readBody(post(garbage(), headers), { limit }).catch((e) => e);
      expect(err, `${encoding} ${limit}`).toMatchObject({ status });
      expect(sent, `${encoding} ${limit}`).toEqual({ bytes: size, cancelled: false });
    }
  });

  it("refuses an unknown encoding with 415 naming the supported ones, before reading", async () => {
    const err = await readBody(post("x", { "content-encoding": "gzip, br" }), { limit: 1024 }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({
      status: 415,
      message:
        'unsupported Content-Encoding "gzip, br": send gzip, deflate, br, zstd or an uncompressed body',
    });
  });
});
