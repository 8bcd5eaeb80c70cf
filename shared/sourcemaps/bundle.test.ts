import { strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { BundleError, JsonSyntaxError, parseArtifactBundle, scanJson, sourceMapProblem } from "./bundle";
import { MAX_MANIFEST_VALUES, MAX_MAP_SIZE } from "./limits";
import { artifactBundle, FIXTURES } from "./test-helpers";

const unzipManifest = (zip: Uint8Array) =>
  unzipSync(zip, { filter: (f) => f.name === "manifest.json" })["manifest.json"]!;

describe("parseArtifactBundle", () => {
  it("indexes minified sources and keeps source maps, with debug ids and the map reference", () => {
    const b = parseArtifactBundle(artifactBundle({ release: "web@1", dist: "7" }));
    expect(b.release).toBe("web@1");
    expect(b.dist).toBe("7");
    expect(b.files.map((f) => [f.url, f.kind, f.debugId, f.mapUrl, f.bytes?.byteLength ?? null])).toEqual([
      ["~/static/app.js", "minified_source", "5279402ae1ba51cf8c09a126dae69d20", "~/static/app.js.map", null],
      [
        "~/static/app.js.map",
        "source_map",
        "5279402ae1ba51cf8c09a126dae69d20",
        null,
        FIXTURES.shop.map.length,
      ],
    ]);
    // The assemble request's version and dist win over the manifest's.
    expect(parseArtifactBundle(artifactBundle({ release: "a" }), { release: "b", dist: "" }).release).toBe(
      "b",
    );
  });

  it("refuses what is not a readable bundle with a BundleError (a 4xx), never another error", () => {
    const cases: Uint8Array[] = [
      strToU8("not a zip at all"),
      zipSync({ "other.json": strToU8("{}") }),
      zipSync({ "manifest.json": strToU8("{not json") }),
      zipSync({ "manifest.json": strToU8("[1,2]") }),
      artifactBundle().slice(0, 200),
    ];
    for (const zip of cases) expect(() => parseArtifactBundle(zip)).toThrow(BundleError);
  });

  it("counts a bundle's declared sizes before inflating anything", () => {
    const big = "x".repeat(33 * 1024 * 1024);
    expect(() => parseArtifactBundle(artifactBundle({}, big))).toThrow(/larger than/);
  });

  it("counts a stored entry by its stored bytes when its directory claims fewer", () => {
    const big = strToU8("x".repeat(MAX_MAP_SIZE + 1));
    const zip = artifactBundle({}, "placeholder");
    const stored = zipSync({
      "manifest.json": [unzipManifest(zip), { level: 0 }],
      "files/_/_/app.js.map": [big, { level: 0 }],
    });
    // Patch the map's central directory entry (signature 50 4b 01 02) to claim 10 bytes.
    const view = new DataView(stored.buffer);
    for (let at = stored.length - 22; at >= 0; at--) {
      if (view.getUint32(at, true) !== 0x02014b50) continue;
      const name = new TextDecoder().decode(
        stored.subarray(at + 46, at + 46 + view.getUint16(at + 28, true)),
      );
      if (name === "files/_/_/app.js.map") view.setUint32(at + 24, 10, true);
    }
    expect(() => parseArtifactBundle(stored)).toThrow(`limit of ${MAX_MAP_SIZE} bytes per map`);
  });

  it("refuses a manifest with more JSON values than its files can need, before parsing it", () => {
    const zip = zipSync({
      "manifest.json": strToU8(`{"files":{},"junk":[${"{},".repeat(MAX_MANIFEST_VALUES)}{}]}`),
    });
    expect(() => parseArtifactBundle(zip)).toThrow(`more than ${MAX_MANIFEST_VALUES} values`);
  });
});

describe("sourceMapProblem", () => {
  it("accepts a map and names what is wrong with anything else", () => {
    expect(sourceMapProblem(strToU8(FIXTURES.shop.map))).toBeNull();
    expect(sourceMapProblem(strToU8('{"version":3,"mappings":'))).toMatch(/^not JSON/);
    expect(sourceMapProblem(strToU8('{"version":2,"mappings":""}'))).toMatch(/version 3/);
    expect(sourceMapProblem(strToU8('{"version":3}'))).toMatch(/no mappings/);
    expect(sourceMapProblem(strToU8("null"))).toMatch(/object/);
  });
});

describe("scanJson", () => {
  it("accepts exactly what JSON.parse of the decoded bytes accepts, without building the value", () => {
    const cases = [
      '{"a":[1,-2.5e+3,0,true,false,null,"x\\"\\u00e9\\n"],"b":{}}',
      "\ufeff[]",
      ' "s" ',
      "-0.0E-0",
      "[01]",
      "[1,]",
      '{"a":1,}',
      '{"a" 1}',
      "[.5]",
      "[1.]",
      '"\\x"',
      '"\\u12g4"',
      '"tab\there"',
      "tru",
      "[]]",
      "{}{}",
      "",
      "[[[[]]]]",
      "nul",
      '{"a":"é"}',
    ];
    for (const text of cases) {
      let parsed = true;
      try {
        JSON.parse(new TextDecoder().decode(strToU8(text))); // as readers decode: a BOM dropped
      } catch {
        parsed = false;
      }
      let scanned = true;
      try {
        scanJson(strToU8(text));
      } catch (err) {
        expect(err).toBeInstanceOf(JsonSyntaxError);
        scanned = false;
      }
      expect(scanned, text).toBe(parsed);
    }
    expect(scanJson(strToU8('{"version":3e0,"mappings":"","x":[1,2]}'))).toMatchObject({
      root: "object",
      values: 6,
      members: new Map<string, unknown>([
        ["version", { kind: "number", number: 3 }],
        ["mappings", { kind: "string" }],
        ["x", { kind: "array" }],
      ]),
    });
  });
});
