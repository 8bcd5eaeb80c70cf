import { describe, expect, it } from "vitest";
import { computeFingerprint } from "../grouping/fingerprint";
import { MapCache, type ParsedMap } from "./map-cache";
import { applySymbolication, debugIdsOf, type MapResolver, symbolicateEvent } from "./symbolicate";
import { FIXTURES, type Fixture, jsEvent, originalOf, shopFrames } from "./test-helpers";

async function parsed(fixture: Fixture, transform = (m: string) => m): Promise<ParsedMap> {
  const load = await new MapCache().get("k", async () => transform(fixture.map));
  if ("error" in load) throw new Error(load.error);
  return load;
}

/** Resolves every frame to one map, or to none. */
const fixed = (map: ParsedMap | null): MapResolver => ({
  resolve: async () => map ?? { reason: "no_map", detail: "no source map uploaded" },
});

describe("symbolicateEvent", () => {
  it("maps frames to original file, line, column and function, with context, keeping the minified frame", async () => {
    const event = jsEvent(shopFrames(FIXTURES.shop, "https://shop.example/app.js"));
    const record = await symbolicateEvent(event, new Map(), fixed(await parsed(FIXTURES.shop)));
    expect(record).not.toBeNull();
    const [runShop, submitOrder, checkout] = event.exceptions[0]!.frames;
    const raised = originalOf(FIXTURES.shop, "cart.js", "new Error(");
    expect(checkout).toMatchObject({
      filename: "test/e2e/sourcemaps-app/src/cart.js",
      function: "checkout",
      lineno: raised.line,
      colno: raised.column + 1,
      inApp: true,
      contextLine: expect.stringMatching(
        /^ {4}throw new Error\(`cart \$\{cart\.id\} has no payment method`\);$/,
      ),
      preContext: expect.arrayContaining(["  if (!cart.paymentMethod) {"]),
      postContext: ["  }", "  return cart.lines.map(lineTotal).reduce((a, b) => a + b, 0);", "}", ""],
      minified: { filename: "https://shop.example/app.js", function: "r" },
    });
    expect(submitOrder).toMatchObject({
      function: "submitOrder",
      filename: "test/e2e/sourcemaps-app/src/main.js",
    });
    expect(runShop).toMatchObject({ function: "runShop" });
    // The record rebuilds the same frames on a fresh copy of the event (what the console does).
    const fresh = jsEvent(shopFrames(FIXTURES.shop, "https://shop.example/app.js"));
    applySymbolication(fresh, JSON.parse(JSON.stringify(record)));
    expect(fresh.exceptions).toEqual(event.exceptions);
  });

  it("groups two builds with different names and positions together", async () => {
    const a = jsEvent(shopFrames(FIXTURES.shop, "https://shop.example/app.3f2a9c1b.js"));
    const b = jsEvent(shopFrames(FIXTURES.shopV2, "https://shop.example/shop.js"));
    expect(a.exceptions[0]!.frames.map((f) => [f.lineno, f.colno])).not.toEqual(
      b.exceptions[0]!.frames.map((f) => [f.lineno, f.colno]),
    );
    const before = [await computeFingerprint(a), await computeFingerprint(b)];
    expect(before[0]!.fingerprint).not.toBe(before[1]!.fingerprint);
    await symbolicateEvent(a, new Map(), fixed(await parsed(FIXTURES.shop)));
    await symbolicateEvent(b, new Map(), fixed(await parsed(FIXTURES.shopV2)));
    const after = [await computeFingerprint(a), await computeFingerprint(b)];
    expect(after[0]!.fingerprint).toBe(after[1]!.fingerprint);
    expect(after[0]!.culprit).toBe("checkout (test/e2e/sourcemaps-app/src/cart.js)");
  });

  it("records why a frame was not mapped: no map, position out of range, no location", async () => {
    const frames = shopFrames(FIXTURES.shop, "https://shop.example/app.js");
    frames.push({ ...frames[2]!, lineno: 40, colno: 7 }, { ...frames[2]!, lineno: null, colno: 3 });
    const event = jsEvent(frames);
    await symbolicateEvent(event, new Map(), fixed(await parsed(FIXTURES.shop)));
    const out = event.exceptions[0]!.frames;
    expect(out[3]).toMatchObject({
      lineno: 40,
      colno: 7,
      unmapped: expect.stringMatching(/^out_of_range: line 40/),
    });
    expect(out[4]!.unmapped).toMatch(/^no_location/);
    const none = jsEvent(shopFrames(FIXTURES.shop, "https://shop.example/app.js"));
    await symbolicateEvent(none, new Map(), fixed(null));
    expect(none.exceptions[0]!.frames.every((f) => f.unmapped?.startsWith("no_map"))).toBe(true);
    expect(none.exceptions[0]!.frames[2]!.function).toBe("r");
  });

  it("marks frames from node_modules not in-app", async () => {
    const vendored = await parsed(FIXTURES.shop, (m) =>
      m.replace("sourcemaps-app/src/cart.js", "node_modules/shop/cart.js"),
    );
    const event = jsEvent(shopFrames(FIXTURES.shop, "https://shop.example/app.js"));
    await symbolicateEvent(event, new Map(), fixed(vendored));
    const frames = event.exceptions[0]!.frames;
    expect(frames[2]).toMatchObject({ filename: "test/e2e/node_modules/shop/cart.js", inApp: false });
    expect(frames[1]!.inApp).toBe(true);
  });

  it("leaves non-JavaScript and anonymous frames alone", async () => {
    const event = jsEvent(
      [
        { filename: "<anonymous>", function: "eval", module: null, lineno: 1, colno: 2, inApp: true },
        { filename: "app.py", function: "f", module: null, lineno: 3, colno: null, inApp: true },
      ],
      { platform: "python" },
    );
    expect(await symbolicateEvent(event, new Map(), fixed(null))).toBeNull();
  });
});

describe("debugIdsOf", () => {
  it("reads sourcemap images of debug_meta and ignores the rest", () => {
    const ids = debugIdsOf({
      debug_meta: {
        images: [
          {
            type: "sourcemap",
            code_file: "https://x/app.js",
            debug_id: "5279402A-E1BA-51CF-8C09-A126DAE69D20",
          },
          { type: "macho", code_file: "x", debug_id: "5279402a-e1ba-51cf-8c09-a126dae69d21" },
          { type: "sourcemap", code_file: "https://x/b.js", debug_id: "not-a-uuid" },
          null,
        ],
      },
    });
    expect([...ids]).toEqual([["https://x/app.js", "5279402ae1ba51cf8c09a126dae69d20"]]);
    expect(debugIdsOf({ debug_meta: { images: "x" } }).size).toBe(0);
  });
});
