import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ArtifactBundle, BundleFile } from "./bundle";
import {
  deleteBundle,
  expireBundles,
  findBundle,
  hasArtifacts,
  listBundles,
  listFiles,
  mapByDebugId,
  mapByUrl,
  saveBundle,
  sweepChunks,
} from "./store";

const bytes = (s: string) => new TextEncoder().encode(s);
const map = (url: string, debugId: string | null = null): BundleFile => ({
  url,
  kind: "source_map",
  debugId,
  mapUrl: null,
  bytes: bytes(`{"version":3,"sources":["${url}"],"mappings":""}`),
  size: 0,
});
const minified = (url: string, mapUrl: string | null): BundleFile => ({
  url,
  kind: "minified_source",
  debugId: null,
  mapUrl,
  bytes: null,
  size: 0,
});
const bundle = (release: string, files: BundleFile[]): ArtifactBundle => ({ release, dist: "", files });

describe("artifact store", () => {
  it("saves, finds by debug id, lists and deletes bundles with their R2 objects", async () => {
    const saved = await saveBundle(
      env,
      21,
      "1".repeat(40),
      bundle("", [map("~/a.js.map", "d".repeat(32))]),
      "sentry-cli",
    );
    expect(saved).toMatchObject({ files: 1, release: "" });
    expect(await hasArtifacts(env.DB, 21)).toBe(true);
    expect(await hasArtifacts(env.DB, 22)).toBe(false);
    const row = await mapByDebugId(env.DB, 21, "d".repeat(32));
    expect(row?.url).toBe("~/a.js.map");
    expect(await (await env.BLOBS.get(row!.blobKey))!.text()).toContain('"version":3');
    expect((await listBundles(env.DB, 21)).map((b) => b.id)).toEqual(["1".repeat(40)]);
    expect(await deleteBundle(env, 21, "1".repeat(40))).toBe(true);
    expect(await env.BLOBS.head(row!.blobKey)).toBeNull();
    expect(await mapByDebugId(env.DB, 21, "d".repeat(32))).toBeNull();
    expect(await deleteBundle(env, 21, "1".repeat(40))).toBe(false);
  });

  it("finds a map by URL: the event's release first, the minified file's reference, then <url>.map", async () => {
    await saveBundle(env, 23, "2".repeat(40), bundle("", [map("~/static/app.js")]), "raygun");
    await saveBundle(
      env,
      23,
      "3".repeat(40),
      bundle("web@2", [minified("~/static/app.js", "~/maps/app.map"), map("~/maps/app.map")]),
      "sentry-cli",
    );
    await saveBundle(env, 23, "4".repeat(40), bundle("web@3", [map("~/static/other.js.map")]), "sentry-cli");
    expect((await mapByUrl(env.DB, 23, "~/static/app.js", "web@2", ""))?.url).toBe("~/maps/app.map");
    expect((await mapByUrl(env.DB, 23, "~/static/app.js", "web@9", ""))?.bundleId).toBe("2".repeat(40));
    expect((await mapByUrl(env.DB, 23, "~/static/other.js", "web@3", ""))?.url).toBe("~/static/other.js.map");
    expect(await mapByUrl(env.DB, 23, "~/static/other.js", "web@2", "")).toBeNull();
    expect((await listFiles(env.DB, 23, "3".repeat(40))).map((f) => f.kind)).toEqual([
      "source_map",
      "minified_source",
    ]);
  });

  it("expires bundles older than their project's retention, oldest first, and stale chunks", async () => {
    const day = 86_400_000;
    const now = Date.now();
    await saveBundle(
      env,
      24,
      "5".repeat(40),
      bundle("old", [map("~/o.js.map")]),
      "sentry-cli",
      now - 40 * day,
    );
    await saveBundle(
      env,
      24,
      "6".repeat(40),
      bundle("older", [map("~/p.js.map")]),
      "sentry-cli",
      now - 50 * day,
    );
    await saveBundle(env, 24, "7".repeat(40), bundle("new", [map("~/n.js.map")]), "sentry-cli", now - day);
    const first = await expireBundles(env, () => now - 30 * day, ["24"], 1);
    expect(first).toBe(1);
    expect((await listBundles(env.DB, 24)).map((b) => b.release)).toEqual(["new", "old"]);
    expect(await expireBundles(env, () => now - 30 * day, ["24"])).toBe(1);
    expect((await listBundles(env.DB, 24)).map((b) => b.release)).toEqual(["new"]);
    expect(await env.BLOBS.head(`artifacts/24/${"5".repeat(40)}/0`)).toBeNull();

    await env.BLOBS.put(`chunks/${"8".repeat(40)}`, "x");
    expect(await sweepChunks(env, now)).toBe(0);
    expect(await sweepChunks(env, now + 2 * day)).toBe(1);
    expect(await env.BLOBS.head(`chunks/${"8".repeat(40)}`)).toBeNull();
  });

  it("sweeps chunks past a window of live ones: each run resumes where the previous one stopped", async () => {
    // More live chunks than one run lists (maxKeys 3), sorting before a stale one. Starting from
    // the beginning of chunks/ every run, the sweep would list the live ones for ever.
    const now = Date.now() + 2 * 86_400_000;
    const live = [0, 1, 2].map((i) => `chunks/0000000${i}${"0".repeat(32)}`);
    const stale = `chunks/00000009${"0".repeat(32)}`;
    for (const k of [...live, stale]) await env.BLOBS.put(k, "x");
    // The live ones were (as far as the sweep can tell) uploaded just now.
    const blobs = new Proxy(env.BLOBS, {
      get(target, key) {
        if (key === "list")
          return async (options: R2ListOptions) => {
            const page = await target.list(options);
            const objects = page.objects.map((o) => ({
              key: o.key,
              uploaded: live.includes(o.key) ? new Date(now) : o.uploaded,
            }));
            return { ...page, objects };
          };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const sweepEnv = { DB: env.DB, BLOBS: blobs };
    expect(await sweepChunks(sweepEnv, now, 3)).toBe(0);
    expect(await env.BLOBS.head(stale)).not.toBeNull();
    await sweepChunks(sweepEnv, now, 3);
    expect(await env.BLOBS.head(stale)).toBeNull();
    for (const k of live) expect(await env.BLOBS.head(k), k).not.toBeNull();
    // At the end of chunks/ the cursor starts over: a chunk before it that goes stale is reached.
    for (let run = 0; run < 3; run++) await sweepChunks(env, now + 2 * 86_400_000, 3);
    for (const k of live) expect(await env.BLOBS.head(k), k).toBeNull();
  });

  it("writes the bundle row last: a save failing in its second D1 batch leaves no bundle, and a retry completes it", async () => {
    const files = Array.from({ length: 1200 }, (_, i) => map(`~/static/f${i}.js.map`));
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
    const id = "9".repeat(40);
    await expect(saveBundle({ ...env, DB: flaky }, 25, id, bundle("r", files), "sentry-cli")).rejects.toThrow(
      /batch 2/,
    );
    // No bundle row, so the assemble route does not answer "ok" for a partial bundle.
    expect(await findBundle(env.DB, 25, id)).toBeNull();
    expect(await saveBundle(env, 25, id, bundle("r", files), "sentry-cli")).toMatchObject({ files: 1200 });
    expect(await findBundle(env.DB, 25, id)).toMatchObject({ files: 1200 });
    const count = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM artifact_files WHERE project_id = 25",
    ).first<{ n: number }>();
    expect(count?.n).toBe(1200);
  });

  it("deletes every R2 object of a bundle past 1000 files, and stores one blob per (url, kind)", async () => {
    const files = Array.from({ length: 1500 }, (_, i) => map(`~/static/f${i}.js.map`));
    const id = "a".repeat(40);
    const listed = async () => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await env.BLOBS.list({ prefix: `artifacts/26/${id}/`, cursor });
        n += page.objects.length;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return n;
    };
    // The same URL and kind twice: one row, so one blob (a second would be orphaned).
    const saved = await saveBundle(
      env,
      26,
      id,
      bundle("", [...files, map("~/static/f0.js.map")]),
      "sentry-cli",
    );
    expect(saved.files).toBe(1500);
    expect(await listed()).toBe(1500);
    expect(await deleteBundle(env, 26, id)).toBe(true);
    expect(await listed()).toBe(0);
  });
});
