import { describe, expect, it } from "vitest";
import { cleanSourcePath, isVendorPath, resolveMapUrl, tildeUrl } from "./urls";

describe("tildeUrl", () => {
  it("keeps only the path of absolute URLs, paths and ~/ URLs", () => {
    expect(tildeUrl("https://cdn.example.com/static/app.js?v=3#x")).toBe("~/static/app.js");
    expect(tildeUrl("~/static/app.js")).toBe("~/static/app.js");
    expect(tildeUrl("/var/app/dist/app.js")).toBe("~/var/app/dist/app.js");
    expect(tildeUrl("file:///var/app/x.js")).toBe("~/var/app/x.js");
    expect(tildeUrl("app:///main.js")).toBe("~/main.js");
    expect(tildeUrl("http://host/")).toBeNull();
    expect(tildeUrl("")).toBeNull();
  });
});

describe("resolveMapUrl", () => {
  it("resolves a sourcemap header relative to its file", () => {
    expect(resolveMapUrl("~/static/js/app.js", "app.js.map")).toBe("~/static/js/app.js.map");
    expect(resolveMapUrl("~/static/js/app.js", "../maps/app.js.map")).toBe("~/static/maps/app.js.map");
    expect(resolveMapUrl("~/a.js", "https://cdn.x/maps/a.js.map")).toBe("~/maps/a.js.map");
    expect(resolveMapUrl("~/a.js", "data:application/json;base64,e30=")).toBeNull();
  });
});

describe("source paths", () => {
  it("cleans bundler prefixes and spots vendor code", () => {
    expect(cleanSourcePath("webpack://shop/./src/cart.js")).toBe("src/cart.js");
    expect(cleanSourcePath("../src/cart.js")).toBe("src/cart.js");
    expect(isVendorPath("node_modules/react/index.js")).toBe(true);
    expect(isVendorPath("src/vendor/lib.js")).toBe(true);
    expect(isVendorPath("src/cart.js")).toBe(false);
  });
});
