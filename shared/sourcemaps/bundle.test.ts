import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { BundleError, parseArtifactBundle, sourceMapProblem } from "./bundle";
import { artifactBundle, FIXTURES } from "./test-helpers";

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
