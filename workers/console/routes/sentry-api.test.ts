// sentry-cli's API subset inside workerd (real local D1 and R2): the state sequence sentry-cli
// drives (not_found with the missing chunks → chunk upload → ok), idempotent re-assembly, and a
// clear 4xx (never a 5xx) for every malformed request.
import { env } from "cloudflare:workers";
import { gzipSync, strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { chunkKey, sha1Hex } from "../../../shared/sourcemaps/chunks";
import { CHUNKS_PER_REQUEST, MAX_MAP_SIZE } from "../../../shared/sourcemaps/limits";
import { findBundle } from "../../../shared/sourcemaps/store";
import { artifactBundle } from "../../../shared/sourcemaps/test-helpers";
import { ADMIN, api, call, createTestProject } from "../../../test/helpers";
import { sentryApiRoutes } from "./sentry-api";

const ORG = "/api/0/organizations/any-org";

async function uploadChunk(bytes: Uint8Array, name = sha1Hex(bytes), copies = 1) {
  const form = new FormData();
  for (let i = 0; i < copies; i++) form.append("file_gzip", new Blob([gzipSync(bytes)]), name);
  const body = new Request("http://x", { method: "POST", body: form });
  const buf = await body.arrayBuffer();
  return call(`${ORG}/chunk-upload/`, {
    method: "POST",
    headers: {
      ...ADMIN,
      "content-type": body.headers.get("content-type")!,
      "content-length": String(buf.byteLength),
    },
    body: buf,
  });
}

const assemble = (body: unknown) =>
  api<{ state: string; missingChunks: string[]; detail?: string }>(`${ORG}/artifactbundle/assemble/`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("sentry-cli's upload API", () => {
  it("answers chunk options, then not_found → upload → ok, and ok at once for the same bundle again", async () => {
    const project = await createTestProject("cli-upload");
    const options = await api<{ chunkSize: number; hashAlgorithm: string; compression: string[] }>(
      `${ORG}/chunk-upload/`,
    );
    expect(options.body).toMatchObject({ hashAlgorithm: "sha1", compression: ["gzip"] });
    const zip = artifactBundle({ release: "web@1" });
    const checksum = sha1Hex(zip);
    const request = { checksum, chunks: [checksum], projects: [project.id] };
    expect((await assemble(request)).body).toEqual({ state: "not_found", missingChunks: [checksum] });
    expect((await uploadChunk(zip)).status).toBe(200);
    expect((await assemble(request)).body).toEqual({ state: "ok", missingChunks: [] });
    const listed = await api<{ bundles: { id: string; release: string }[] }>(
      `/api/v1/projects/${project.id}/artifacts`,
    );
    expect(listed.body.bundles).toMatchObject([{ id: checksum, release: "web@1" }]);
    // The bundle answers ok again, from its row.
    expect((await assemble(request)).body).toEqual({ state: "ok", missingChunks: [] });
  });

  it("reports a bundle that is not a zip as an error state with the reason", async () => {
    const project = await createTestProject("cli-bad-bundle");
    const junk = new TextEncoder().encode("this is not a zip file");
    expect((await uploadChunk(junk)).status).toBe(200);
    const r = await assemble({ checksum: sha1Hex(junk), chunks: [sha1Hex(junk)], projects: [project.id] });
    expect(r.body).toMatchObject({ state: "error", detail: expect.stringMatching(/not a readable zip/) });
  });

  it("answers malformed requests with a 4xx and a detail", async () => {
    const project = await createTestProject("cli-bad-requests");
    const sha = "a".repeat(40);
    const cases: [string, Promise<{ status: number }>, number][] = [
      ["malformed JSON", assemble("{"), 400],
      ["no chunks", assemble({ checksum: sha, chunks: [], projects: [project.id] }), 400],
      ["bad checksum", assemble({ checksum: "xyz", chunks: [sha], projects: [project.id] }), 400],
      ["unknown project", assemble({ checksum: sha, chunks: [sha], projects: ["no-such-project"] }), 404],
      [
        "too many chunks",
        assemble({ checksum: sha, chunks: Array(100).fill(sha), projects: [project.id] }),
        400,
      ],
      ["chunk without a SHA-1 name", uploadChunk(new Uint8Array([1]), "name"), 400],
      ["chunk not matching its name", uploadChunk(new Uint8Array([1]), sha), 400],
      ["unknown endpoint", api(`${ORG}/releases/web@1/files/`), 404],
      ["no token", call(`${ORG}/chunk-upload/`, { method: "GET" }), 401],
      [
        "over the request size",
        call(`${ORG}/chunk-upload/`, {
          method: "POST",
          headers: {
            ...ADMIN,
            "content-type": "multipart/form-data; boundary=x",
            "content-length": String(60 << 20),
          },
          body: "--x--",
        }),
        413,
      ],
    ];
    for (const [what, res, status] of cases) expect((await res).status, what).toBe(status);
  });

  it("refuses more chunks per request than it advertises with a 413, storing none", async () => {
    const options = await api<{ chunksPerRequest: number; chunkSize: number; maxRequestSize: number }>(
      `${ORG}/chunk-upload/`,
    );
    expect(options.body.chunksPerRequest).toBe(CHUNKS_PER_REQUEST);
    expect(options.body.chunksPerRequest * options.body.chunkSize).toBeLessThanOrEqual(
      options.body.maxRequestSize,
    );
    const chunk = strToU8("one chunk too many");
    const r = await uploadChunk(chunk, sha1Hex(chunk), CHUNKS_PER_REQUEST + 1);
    expect(r.status).toBe(413);
    expect(await r.json()).toEqual({
      detail: `${CHUNKS_PER_REQUEST + 1} chunks in one request; the limit is ${CHUNKS_PER_REQUEST}`,
    });
    expect(await env.BLOBS.head(chunkKey(sha1Hex(chunk)))).toBeNull();
  });

  it("keeps chunks after an assemble, so another project's assemble told they are present succeeds", async () => {
    const [a, b] = [await createTestProject("cli-shared-a"), await createTestProject("cli-shared-b")];
    const zip = artifactBundle({ release: "shared@1" });
    const checksum = sha1Hex(zip);
    expect((await uploadChunk(zip)).status).toBe(200);
    expect((await assemble({ checksum, chunks: [checksum], projects: [a.id] })).body.state).toBe("ok");
    expect(await env.BLOBS.head(chunkKey(checksum))).not.toBeNull();
    expect((await assemble({ checksum, chunks: [checksum], projects: [b.id] })).body).toEqual({
      state: "ok",
      missingChunks: [],
    });
  });

  it("refuses a bundle with a map over the per-map limit, naming it, and saves nothing", async () => {
    const project = await createTestProject("cli-big-map");
    // 9 MiB: a legal map before the limit was lowered to fit the isolate (limits.ts).
    const big = `{"version":3,"sources":["a.js"],"mappings":"","sourcesContent":["${"x".repeat(9 << 20)}"]}`;
    expect(big.length).toBeGreaterThan(MAX_MAP_SIZE);
    const zip = zipSync({
      "manifest.json": strToU8(
        JSON.stringify({ files: { "files/_/_/a.js.map": { type: "source_map", url: "~/a.js.map" } } }),
      ),
      "files/_/_/a.js.map": strToU8(big),
    });
    const checksum = sha1Hex(zip);
    expect((await uploadChunk(zip)).status).toBe(200);
    const r = await assemble({ checksum, chunks: [checksum], projects: [project.id] });
    expect(r.body).toMatchObject({
      state: "error",
      detail: `source map ~/a.js.map is larger than the limit of ${MAX_MAP_SIZE} bytes per map`,
    });
    expect(await findBundle(env.DB, Number(project.id), checksum)).toBeNull();
  });

  it("answers a retried assemble ok only once a save that failed part-way is complete", async () => {
    const project = await createTestProject("cli-partial");
    const files: Record<string, Uint8Array> = {};
    const manifest: Record<string, unknown> = {};
    for (let i = 0; i < 1200; i++) {
      files[`files/_/_/f${i}.js.map`] = strToU8(`{"version":3,"sources":["f${i}.js"],"mappings":"AAAA"}`);
      manifest[`files/_/_/f${i}.js.map`] = { type: "source_map", url: `~/f${i}.js.map` };
    }
    const zip = zipSync({ "manifest.json": strToU8(JSON.stringify({ files: manifest })), ...files });
    const checksum = sha1Hex(zip);
    const body = JSON.stringify({ checksum, chunks: [checksum], projects: [project.id] });
    expect((await uploadChunk(zip)).status).toBe(200);
    let batches = 0;
    const flaky = new Proxy(env.DB, {
      get(target, key) {
        if (key === "batch")
          return (statements: D1PreparedStatement[]) => {
            if (++batches === 2) throw new Error("D1_ERROR: simulated failure of batch 2");
            return target.batch(statements);
          };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const path = `${ORG}/artifactbundle/assemble/`;
    const init = { method: "POST", headers: { "content-type": "application/json" }, body };
    expect((await sentryApiRoutes.request(path, init, { ...env, DB: flaky })).status).toBe(500);
    const retried = await sentryApiRoutes.request(path, init, env);
    expect(await retried.json()).toEqual({ state: "ok", missingChunks: [] });
    const count = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM artifact_files WHERE project_id = ? AND bundle_id = ?",
    )
      .bind(Number(project.id), checksum)
      .first<{ n: number }>();
    expect(count?.n).toBe(1200);
  });
});
