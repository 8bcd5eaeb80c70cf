import { env } from "cloudflare:workers";
import { gzipSync, strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import { chunkKey, joinChunks, missingChunks, sha1Hex, storeChunks } from "./chunks";

function form(parts: { field: string; name: string; bytes: Uint8Array }[]): FormData {
  const f = new FormData();
  for (const p of parts) f.append(p.field, new Blob([p.bytes]), p.name);
  return f;
}

describe("chunks", () => {
  it("stores gzip and plain chunks under their SHA-1 and joins them into the file they make", async () => {
    const a = strToU8("first half of the bundle;");
    const b = strToU8("second half.");
    const stored = await storeChunks(
      env.BLOBS,
      form([
        { field: "file_gzip", name: sha1Hex(a), bytes: gzipSync(a) },
        { field: "file", name: sha1Hex(b), bytes: b },
      ]),
    );
    expect(stored).toBe(2);
    expect(await missingChunks(env.BLOBS, [sha1Hex(a), sha1Hex(b), "f".repeat(40)])).toEqual([
      "f".repeat(40),
    ]);
    const whole = new Uint8Array([...a, ...b]);
    const joined = await joinChunks(env.BLOBS, sha1Hex(whole), [sha1Hex(a), sha1Hex(b)], 1024);
    expect("bytes" in joined && new TextDecoder().decode(joined.bytes)).toBe(
      "first half of the bundle;second half.",
    );
    expect(await joinChunks(env.BLOBS, "0".repeat(40), [sha1Hex(a), sha1Hex(b)], 1024)).toEqual({
      error: `checksum mismatch: the chunks hash to ${sha1Hex(whole)}, not ${"0".repeat(40)}`,
    });
    expect(await joinChunks(env.BLOBS, sha1Hex(whole), [sha1Hex(a), sha1Hex(b)], 10)).toMatchObject({
      error: expect.stringMatching(/larger than 10 bytes/),
    });
  });

  it("refuses a chunk whose content does not hash to its name, and writes nothing of that request", async () => {
    const good = strToU8("good chunk");
    const bad = strToU8("tampered");
    const err = await storeChunks(
      env.BLOBS,
      form([
        { field: "file", name: sha1Hex(good), bytes: good },
        { field: "file", name: sha1Hex(strToU8("original")), bytes: bad },
      ]),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).status).toBe(400);
    expect((err as ClientError).message).toMatch(/checksum mismatch/);
    expect(await env.BLOBS.head(chunkKey(sha1Hex(good)))).toBeNull();
  });

  it("answers 400 for corrupt gzip, a bad name or no chunk, and 413 for a gzip bomb", async () => {
    const statusOf = (f: FormData) =>
      storeChunks(env.BLOBS, f).then(
        () => 200,
        (e: unknown) => (e instanceof ClientError ? e.status : 500),
      );
    expect(
      await statusOf(form([{ field: "file_gzip", name: "a".repeat(40), bytes: strToU8("not gzip") }])),
    ).toBe(400);
    expect(await statusOf(form([{ field: "file", name: "../../etc", bytes: strToU8("x") }]))).toBe(400);
    expect(await statusOf(new FormData())).toBe(400);
    const bomb = gzipSync(new Uint8Array(9 * 1024 * 1024));
    expect(await statusOf(form([{ field: "file_gzip", name: "b".repeat(40), bytes: bomb }]))).toBe(413);
  });
});
