// sentry-cli's API subset inside workerd (real local D1 and R2): the state sequence sentry-cli
// drives (not_found with the missing chunks → chunk upload → ok), idempotent re-assembly, and a
// clear 4xx (never a 5xx) for every malformed request.
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { sha1Hex } from "../../../shared/sourcemaps/chunks";
import { artifactBundle } from "../../../shared/sourcemaps/test-helpers";
import { ADMIN, api, call, createTestProject } from "../../../test/helpers";

const ORG = "/api/0/organizations/any-org";

async function uploadChunk(bytes: Uint8Array, name = sha1Hex(bytes)) {
  const form = new FormData();
  form.append("file_gzip", new Blob([gzipSync(bytes)]), name);
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
    // The chunks are gone once assembled; the bundle answers ok without them.
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
});
