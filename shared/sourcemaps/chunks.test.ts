import { env } from "cloudflare:workers";
import { gzipSync, strToU8 } from "fflate";
import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import { CHUNK_REUPLOAD_AFTER_MS, chunkKey, joinChunks, missingChunks, sha1Hex, storeChunks } from "./chunks";
import { CHUNK_SIZE, CHUNKS_PER_REQUEST } from "./limits";

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
      error: expect.stringMatching(/limit of 10 bytes/),
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

  it("refuses more parts than chunksPerRequest with a 413 before inflating or storing any", async () => {
    // The reviewer's bomb: identical gzip parts of a few KiB, each inflating to a full chunk.
    const zeros = new Uint8Array(CHUNK_SIZE);
    const part = { field: "file_gzip", name: sha1Hex(zeros), bytes: gzipSync(zeros, { level: 9 }) };
    const err = await storeChunks(env.BLOBS, form(Array(CHUNKS_PER_REQUEST + 1).fill(part))).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).status).toBe(413);
    expect((err as ClientError).message).toBe(
      `${CHUNKS_PER_REQUEST + 1} chunks in one request; the limit is ${CHUNKS_PER_REQUEST}`,
    );
    expect(await env.BLOBS.head(chunkKey(sha1Hex(zeros)))).toBeNull();
  });

  it("stores a chunk named twice in one request once", async () => {
    const bytes = strToU8("the same chunk, sent twice");
    const part = { field: "file_gzip", name: sha1Hex(bytes), bytes: gzipSync(bytes) };
    expect(await storeChunks(env.BLOBS, form([part, part]))).toBe(1);
    expect(await (await env.BLOBS.get(chunkKey(sha1Hex(bytes))))!.text()).toBe("the same chunk, sent twice");
  });

  it("names the chunks gone before a join, and counts chunks near the sweep as missing", async () => {
    const a = strToU8("a chunk that stays");
    const gone = "c".repeat(40);
    await env.BLOBS.put(chunkKey(sha1Hex(a)), a);
    // sentry-cli uploads not_found chunks again; an error would make it give up.
    expect(await joinChunks(env.BLOBS, "0".repeat(40), [sha1Hex(a), gone], 1024)).toEqual({
      missing: [gone],
    });
    // Reported present, a chunk must outlive the assemble; past half its lifetime it is uploaded again.
    const uploaded = (await env.BLOBS.head(chunkKey(sha1Hex(a))))!.uploaded.getTime();
    expect(await missingChunks(env.BLOBS, [sha1Hex(a)], uploaded + 1000)).toEqual([]);
    expect(await missingChunks(env.BLOBS, [sha1Hex(a)], uploaded + CHUNK_REUPLOAD_AFTER_MS + 1)).toEqual([
      sha1Hex(a),
    ]);
  });
});
