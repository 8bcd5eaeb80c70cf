// Raygun's source-map upload inside workerd (real local D1 and R2): a map over the per-map limit
// is a 413 naming the limit, refused before it is read, and nothing is stored.
import { describe, expect, it } from "vitest";
import { MAX_MAP_SIZE } from "../../../shared/sourcemaps/limits";
import { ADMIN, api, call, createTestProject } from "../../../test/helpers";

async function upload(project: string, map: string) {
  const form = new FormData();
  form.append("uri", "https://shop.example/js/app.min.js");
  form.append("file", new Blob([map]), "app.min.js.map");
  const body = new Request("http://x", { method: "POST", body: form });
  const buf = await body.arrayBuffer();
  return call(`/v3/applications/${project}/source-maps`, {
    method: "PUT",
    headers: {
      ...ADMIN,
      "content-type": body.headers.get("content-type")!,
      "content-length": String(buf.byteLength),
    },
    body: buf,
  });
}

describe("Raygun source-map upload", () => {
  it("refuses a map over the per-map limit with a 413 naming the limit, and stores nothing", async () => {
    const project = await createTestProject("raygun-big-map");
    // 9 MiB: a legal map before the limit was lowered to fit the isolate (limits.ts).
    const big = `{"version":3,"sources":["a.js"],"mappings":"","sourcesContent":["${"x".repeat(9 << 20)}"]}`;
    expect(big.length).toBeGreaterThan(MAX_MAP_SIZE + 64 * 1024);
    const r = await upload(project.id, big);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toMatch(
      new RegExp(`limit of ${MAX_MAP_SIZE} bytes per source map$`),
    );
    expect((await api<unknown[]>(`/v3/applications/${project.id}/source-maps`)).body).toEqual([]);
    const small = await upload(project.id, '{"version":3,"sources":["a.js"],"mappings":"AAAA"}');
    expect(small.status).toBe(200);
  });
});
