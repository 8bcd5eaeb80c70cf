// The body reader every ingestion route shares (Raygun and Sentry), on real Requests in workerd.
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { readBody } from "./read-body";

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://sluice.test/entries", { method: "POST", body, headers });
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
