// Content-Encoding decoders inside workerd (node:zlib under nodejs_compat, DecompressionStream):
// round trips, corrupt input, and bombs that must stop at the sink's limit.
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { DecodeError, decodeStream, isSupportedEncoding, OutputTooLargeError } from "./decompress";
import { readDecoded } from "./read-body";

const zstd = zlib as unknown as {
  zstdCompressSync(input: Uint8Array, options?: { params: Record<number, number> }): Uint8Array;
  constants: { ZSTD_c_windowLog: number };
};
const original = Array.from({ length: 4000 }, (_, i) => `line ${i}: ${"é→".repeat(i % 7)}`).join("\n");
const text = new TextEncoder().encode(original);
const MiB = 1024 * 1024;
const zeros = new Uint8Array(64 * MiB);

const encoders: Record<string, (b: Uint8Array) => Uint8Array> = {
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  br: (b) => zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
  zstd: (b) => zstd.zstdCompressSync(b),
};

/** A stream of `bytes` in chunks of `size`, so decoders see input the way a request delivers it. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

// Compared as text: vitest's deep equality walks a typed array element by element (seconds here).
async function decodeAll(encoding: string, input: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readDecoded(input, encoding, { limit: 16 * MiB }));
}

describe("decodeStream", () => {
  for (const [encoding, encode] of Object.entries(encoders)) {
    it(`${encoding}: decodes byte-exact, whole or in 61-byte chunks`, async () => {
      const packed = encode(text);
      expect(packed.length).toBeLessThan(text.length / 2);
      expect(await decodeAll(encoding, new Blob([packed]).stream())).toBe(original);
      expect(await decodeAll(encoding, chunked(packed, 61))).toBe(original);
    });

    it(`${encoding}: a 64 MiB bomb stops at a 1 MiB limit`, async () => {
      const bomb = encode(zeros);
      expect(bomb.length).toBeLessThan(256 * 1024);
      let seen = 0;
      const err = await decodeStream(
        new Blob([bomb]).stream(),
        encoding,
        (chunk) => {
          seen += chunk.byteLength;
          if (seen > MiB) throw new RangeError("limit");
        },
        { maxOutput: MiB },
      ).catch((e: unknown) => e);
      if (encoding === "br" || encoding === "zstd") {
        // Decoded in one native call bounded by maxOutputLength: nothing reaches the sink.
        expect(err).toBeInstanceOf(OutputTooLargeError);
        expect(seen).toBe(0);
      } else {
        // Streamed: the sink's own limit stops it within one chunk.
        expect(err).toBeInstanceOf(RangeError);
        expect(seen).toBeGreaterThan(MiB);
        expect(seen).toBeLessThanOrEqual(MiB + 256 * 1024);
      }
    });

    it(`${encoding}: corrupt and truncated input is a DecodeError`, async () => {
      const garbage = new TextEncoder().encode("this is not compressed at all, not even close");
      await expect(decodeStream(new Blob([garbage]).stream(), encoding, () => {})).rejects.toBeInstanceOf(
        DecodeError,
      );
      const packed = encode(text);
      const cut = packed.subarray(0, packed.length >> 1);
      await expect(decodeStream(new Blob([cut]).stream(), encoding, () => {})).rejects.toBeInstanceOf(
        DecodeError,
      );
    });
  }

  for (const encoding of ["br", "zstd"]) {
    it(`${encoding}: one input chunk inflating to 19 MiB decodes whole (workerd's zlib recursion stays shallow)`, async () => {
      const body = new Uint8Array(19 * MiB).fill(0x61);
      const out = await readDecoded(new Blob([encoders[encoding]!(body)]).stream(), encoding, {
        limit: 20 * MiB,
      });
      expect(out.byteLength).toBe(body.byteLength);
      expect(out.every((b) => b === 0x61)).toBe(true);
    });
  }

  it("zstd: a frame asking for a 128 MiB window is refused, not allocated", async () => {
    // The window is declared in the frame header; only a large input makes the encoder use 2^27.
    const wide = zstd.zstdCompressSync(zeros, { params: { [zstd.constants.ZSTD_c_windowLog]: 27 } });
    const err = await readDecoded(new Blob([wide]).stream(), "zstd", { limit: MiB }).catch((e) => e);
    expect(err).toMatchObject({
      status: 400,
      causes: ["failed to decode zstd payload: window larger than 8 MiB"],
    });
  });

  it("knows which encodings it supports", () => {
    for (const e of ["", "identity", "gzip", "x-gzip", "deflate", "br", "zstd"]) {
      expect(isSupportedEncoding(e), e).toBe(true);
    }
    for (const e of ["compress", "gzip, br", "toString", "__proto__"])
      expect(isSupportedEncoding(e), e).toBe(false);
  });
});

describe("readDecoded", () => {
  it("answers 413 naming the limit once the decoded bytes pass it", async () => {
    const bomb = encoders.br!(zeros);
    const err = await readDecoded(new Blob([bomb]).stream(), "br", { limit: MiB, what: "envelope" }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({
      status: 413,
      message: `envelope exceeds the limit of ${MiB} bytes after decompression`,
    });
  });

  it("answers 400 for a corrupt br body", async () => {
    const err = await readDecoded(new Blob(["nope"]).stream(), "br", { limit: MiB }).catch((e) => e);
    expect(err).toMatchObject({ status: 400, causes: ["failed to decode br payload"] });
  });
});
