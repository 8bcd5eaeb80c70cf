// The processor's symbolication hook (prepare.ts → shared/sourcemaps/resolver.ts) inside workerd
// against local D1 and R2: maps found by debug id, by release + URL and for Raygun reports; the
// stored record header rebuilds the same frames in the console; a batch reads each map once; and
// a store that fails or holds a broken map never costs the event.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import { normalizeStored } from "../../shared/normalize";
import type { IngestItem } from "../../shared/queue-message";
import { parseArtifactBundle } from "../../shared/sourcemaps/bundle";
import { mapCache } from "../../shared/sourcemaps/resolver";
import { saveBundle } from "../../shared/sourcemaps/store";
import { artifactBundle, FIXTURES, shopFrames } from "../../shared/sourcemaps/test-helpers";
import { prepareItem } from "./prepare";

const DEBUG_ID = "5279402a-e1ba-51cf-8c09-a126dae69d20";

function sentryItem(projectId: string, payload: object): IngestItem {
  const text = JSON.stringify(payload);
  return {
    protocol: "sentry",
    category: "error",
    itemType: "event",
    projectId,
    eventId: newEventId(),
    receivedAt: Date.now(),
    client: { ip: null, userAgent: null, country: null, colo: null },
    payload: text,
    size: text.length,
  };
}

/** A Sentry browser event raised in the fixture bundle served from `url`. */
function browserEvent(url: string, extra: object = {}, fixture = FIXTURES.shop) {
  const frames = shopFrames(fixture, url).map((f) => ({
    filename: f.filename,
    abs_path: f.absPath,
    function: f.function,
    lineno: f.lineno,
    colno: f.colno,
    in_app: true,
  }));
  return {
    event_id: "b".repeat(32),
    platform: "javascript",
    exception: {
      values: [{ type: "Error", value: "cart c-1 has no payment method", stacktrace: { frames } }],
    },
    ...extra,
  };
}

const top = (p: Awaited<ReturnType<typeof prepareItem>>) => p.event!.exceptions[0]!.frames.at(-1)!;

describe("symbolication in the processor", () => {
  it("maps by debug id before grouping, and the stored record rebuilds the same event", async () => {
    await saveBundle(env, 11, "a".repeat(40), parseArtifactBundle(artifactBundle()), "sentry-cli");
    const url = "https://shop.example/static/app.js";
    const item = sentryItem(
      "11",
      browserEvent(url, {
        debug_meta: { images: [{ type: "sourcemap", code_file: url, debug_id: DEBUG_ID }] },
      }),
    );
    const p = await prepareItem(item, env);
    expect(top(p)).toMatchObject({ function: "checkout", filename: "test/e2e/sourcemaps-app/src/cart.js" });
    expect(p.grouping!.culprit).toBe("checkout (test/e2e/sourcemaps-app/src/cart.js)");
    expect(p.item.meta?.symbolication).toBeDefined();
    const rebuilt = normalizeStored(p.item, p.payload as string)!;
    expect(rebuilt.exceptions).toEqual(p.event!.exceptions);
  });

  it("maps by release and ~/ URL without debug ids, and Raygun reports by the uploaded URL", async () => {
    const bundle = parseArtifactBundle(artifactBundle({ release: "web@2" }));
    bundle.files = bundle.files.map((f) => ({ ...f, debugId: null }));
    await saveBundle(env, 12, "b".repeat(40), bundle, "sentry-cli");
    const other = await prepareItem(
      sentryItem("12", browserEvent("https://cdn.example/static/app.js", { release: "web@1" })),
      env,
    );
    expect(top(other).unmapped).toMatch(
      /^no_map: no source map uploaded for ~\/static\/app\.js \(release web@1\)/,
    );
    const p = await prepareItem(
      sentryItem("12", browserEvent("https://cdn.example/static/app.js?v=2", { release: "web@2" })),
      env,
    );
    expect(top(p)).toMatchObject({
      function: "checkout",
      minified: { filename: "https://cdn.example/static/app.js?v=2" },
    });

    const url = "https://shop.example/js/app.min.js";
    const map = new TextEncoder().encode(FIXTURES.shop.map);
    const raygun = {
      release: "",
      dist: "",
      files: [
        {
          url: "~/js/app.min.js",
          kind: "source_map" as const,
          debugId: null,
          mapUrl: null,
          bytes: map,
          size: map.byteLength,
        },
      ],
    };
    await saveBundle(env, 13, "c".repeat(40), raygun, "raygun");
    const frames = shopFrames(FIXTURES.shop, url)
      .reverse()
      .map((f) => ({ fileName: url, methodName: f.function, lineNumber: f.lineno, columnNumber: f.colno }));
    const report = JSON.stringify({
      occurredOn: new Date().toISOString(),
      details: {
        error: { className: "Error", message: "x", stackTrace: frames },
        client: { name: "raygun-js", version: "3.1.4" },
      },
    });
    const r = await prepareItem(
      {
        ...sentryItem("13", {}),
        protocol: "raygun",
        itemType: "entry",
        payload: report,
        size: report.length,
      },
      env,
    );
    expect(top(r)).toMatchObject({ function: "checkout", lineno: 8 });
  });

  it("finds a digit-heavy debug id that the PII scrubber filters as a card number", async () => {
    const id = "24817872-8345-4060-be48-af4bb4f7693a"; // its digits pass Luhn: "[Filtered]-be48-…" once scrubbed
    const bundle = parseArtifactBundle(artifactBundle());
    bundle.files = bundle.files.map((f) => ({ ...f, debugId: id.replaceAll("-", "") }));
    await saveBundle(env, 18, "9".repeat(40), bundle, "sentry-cli");
    const url = "https://shop.example/assets/build-42.js"; // not the bundle's URL: only the debug id finds it
    const item = sentryItem(
      "18",
      browserEvent(url, { debug_meta: { images: [{ type: "sourcemap", code_file: url, debug_id: id }] } }),
    );
    const p = await prepareItem(item, env);
    expect(p.payload).not.toContain(id); // the stored payload is scrubbed
    expect(top(p)).toMatchObject({ function: "checkout" });
  });

  it("fetches and parses each map once for a batch of events that share it", async () => {
    await saveBundle(env, 14, "d".repeat(40), parseArtifactBundle(artifactBundle()), "sentry-cli");
    const url = "https://shop.example/static/app.js";
    const before = mapCache.loads;
    const items = Array.from({ length: 20 }, () =>
      sentryItem(
        "14",
        browserEvent(url, {
          debug_meta: { images: [{ type: "sourcemap", code_file: url, debug_id: DEBUG_ID }] },
        }),
      ),
    );
    const prepared = await Promise.all(items.map((i) => prepareItem(i, env)));
    expect(prepared.every((p) => top(p).function === "checkout")).toBe(true);
    expect(mapCache.loads - before).toBe(1);
  });

  it("records a broken stored map as the reason and keeps the event", async () => {
    const row = await saveBundle(
      env,
      15,
      "e".repeat(40),
      parseArtifactBundle(artifactBundle({ release: "r" })),
      "sentry-cli",
    );
    expect(row.files).toBe(2);
    await env.BLOBS.put(`artifacts/15/${"e".repeat(40)}/1`, "{ this is no longer a map");
    const p = await prepareItem(
      sentryItem("15", browserEvent("https://x.example/static/app.js", { release: "r" })),
      env,
    );
    expect(top(p).unmapped).toMatch(/^bad_map: ~\/static\/app\.js\.map: the source map cannot be read/);
    expect(p.grouping).toBeDefined();
  });

  it("looks up at most 25 distinct files per event, however many a key holder names", async () => {
    await saveBundle(env, 17, "f".repeat(40), parseArtifactBundle(artifactBundle()), "sentry-cli");
    const frames = Array.from({ length: 200 }, (_, i) => ({
      filename: `https://x.example/f${i}.js`,
      abs_path: `https://x.example/f${i}.js`,
      function: "f",
      lineno: 1,
      colno: 1,
    }));
    let queries = 0;
    const counting = {
      prepare: (sql: string) => {
        queries++;
        return env.DB.prepare(sql);
      },
    } as unknown as D1Database;
    const p = await prepareItem(
      sentryItem("17", {
        platform: "javascript",
        exception: { values: [{ type: "E", stacktrace: { frames } }] },
      }),
      { BLOBS: env.BLOBS, DB: counting },
    );
    const reasons = p.event!.exceptions[0]!.frames.map((f) => f.unmapped ?? "");
    expect(reasons.filter((r) => r.includes("more than 25 files"))).toHaveLength(175);
    expect(queries).toBeLessThanOrEqual(1 + 25);
  });

  it("prepares the event unmapped when the artifact store cannot be reached", async () => {
    const broken = {
      prepare() {
        throw new Error("D1 is down");
      },
    } as unknown as D1Database;
    const p = await prepareItem(sentryItem("16", browserEvent("https://x.example/a.js")), {
      BLOBS: env.BLOBS,
      DB: broken,
    });
    expect(top(p)).toMatchObject({ filename: "https://x.example/a.js", function: "r" });
    expect(p.grouping).toBeDefined();
  });
});
