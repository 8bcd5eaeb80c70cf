// Shared by the source-map tests: a canonical event whose frames sit where the fixture bundles
// (fixtures/*.json, built by esbuild from test/e2e/sourcemaps-app) raise and call, found from the
// original positions through the map itself.

import { generatedPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { strToU8, zipSync } from "fflate";
import type { CanonicalEvent, StackFrame } from "../event";
import shop from "./fixtures/shop.json";
import shopV2 from "./fixtures/shop-v2.json";

export const FIXTURES = { shop, shopV2 };
export type Fixture = typeof shop;

const SOURCES = "../../../test/e2e/sourcemaps-app/src/";

/** The original (1-based) line and 0-based column of `needle` in a source of the fixture map. */
export function originalOf(fixture: Fixture, file: string, needle: string) {
  const map = JSON.parse(fixture.map) as { sources: string[]; sourcesContent: string[] };
  const i = map.sources.indexOf(`${SOURCES}${file}`);
  const lines = map.sourcesContent[i]!.split("\n");
  const line = lines.findIndex((l) => l.includes(needle));
  return { source: map.sources[i]!, line: line + 1, column: lines[line]!.indexOf(needle) };
}

/** A minified frame (1-based column, as SDKs report) at the original position of `needle`. */
export function minifiedFrame(
  fixture: Fixture,
  url: string,
  file: string,
  needle: string,
  fn: string,
): StackFrame {
  const o = originalOf(fixture, file, needle);
  const g = generatedPositionFor(new TraceMap(fixture.map), {
    source: o.source,
    line: o.line,
    column: o.column,
  });
  if (g.line === null || g.column === null) throw new Error(`no generated position for ${needle}`);
  return {
    filename: url,
    absPath: url,
    function: fn,
    module: null,
    lineno: g.line,
    colno: g.column + 1,
    inApp: true,
  };
}

/** The shop's stack (caller → callee): runShop → submitOrder → checkout raising. */
export function shopFrames(fixture: Fixture, url: string): StackFrame[] {
  return [
    minifiedFrame(fixture, url, "main.js", "submitOrder({", "globalThis.runShop"),
    minifiedFrame(fixture, url, "main.js", "checkout(cart)", "a"),
    minifiedFrame(fixture, url, "cart.js", "new Error(", "r"),
  ];
}

export function jsEvent(frames: StackFrame[], extra: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return {
    eventId: "e".repeat(32),
    projectId: "1",
    protocol: "sentry",
    category: "error",
    occurredAt: new Date(0).toISOString(),
    receivedAt: new Date(0).toISOString(),
    level: "error",
    platform: "javascript",
    type: "Error",
    message: "cart c-1 has no payment method",
    exceptions: [{ type: "Error", value: "cart c-1 has no payment method", frames }],
    release: "shop@1",
    environment: null,
    serverName: null,
    transaction: null,
    user: null,
    tags: {},
    request: null,
    breadcrumbs: [],
    contexts: {},
    extra: {},
    client: { ip: null, userAgent: null, country: null, colo: null },
    sdk: { name: null, version: null },
    fingerprint: null,
    ...extra,
  };
}

/** An artifact bundle laid out as sentry-cli 3.8 writes it (manifest captured from a real upload). */
export function artifactBundle(extra: Record<string, unknown> = {}, map = FIXTURES.shop.map): Uint8Array {
  const manifest = {
    files: {
      "files/_/_/app.js": {
        type: "minified_source",
        url: "~/static/app.js",
        headers: { "debug-id": "5279402a-e1ba-51cf-8c09-a126dae69d20", sourcemap: "app.js.map" },
      },
      "files/_/_/app.js.map": {
        type: "source_map",
        url: "~/static/app.js.map",
        headers: { "debug-id": "5279402a-e1ba-51cf-8c09-a126dae69d20" },
      },
      "files/_/_/readme.txt": { type: "source", url: "~/readme.txt" },
    },
    debug_id: "9b10ad1d-5b1c-58ab-aca9-0754bc6f1ca6",
    org: "acme",
    project: "web",
    ...extra,
  };
  return zipSync({
    "manifest.json": strToU8(JSON.stringify(manifest)),
    "files/_/_/app.js": strToU8(FIXTURES.shop.code),
    "files/_/_/app.js.map": strToU8(map),
    "files/_/_/readme.txt": strToU8("hello"),
  });
}
