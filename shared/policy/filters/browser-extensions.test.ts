import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../settings";
import { browserExtensionsFilter } from "./browser-extensions";
import { input, withFilters } from "./test-helpers";

describe("browser-extensions filter", () => {
  const s = DEFAULT_SETTINGS; // on by default
  it("drops Relay's known extension messages", () => {
    for (const m of [
      "Error: some error on top.GLOBALS",
      "originalCreateNotification",
      "canvas.contentDocument",
      "MyApp_RemoveAllHighlights",
      "atomicFindClose has messed up",
      "ReferenceError: jigsaw is not defined",
      "ComboSearch is not defined",
      "what does conduitPage even do",
      "Error: Extension context invalidated.",
      "TypeError: can't access dead object",
    ]) {
      expect(browserExtensionsFilter.check(input({ messages: [m] }), s), m).toBe(true);
    }
  });
  it("drops errors raised in extension scripts", () => {
    for (const f of [
      "chrome-extension://abc/content.js",
      "moz-extension://abc/x.js",
      "safari-extension://abc/x.js",
      "safari-web-extension://abc/x.js",
      "https://fscr.kaspersky-labs.com/B-9B72/main.js",
    ]) {
      expect(browserExtensionsFilter.check(input({ frameFilenames: ["<anonymous>", f] }), s), f).toBe(true);
    }
  });
  it("judges only the raising frame and can be switched off", () => {
    const deep = input({ frameFilenames: ["https://app.example.com/a.js", "chrome-extension://abc/x.js"] });
    expect(browserExtensionsFilter.check(deep, s)).toBe(false);
    expect(browserExtensionsFilter.check(input(), s)).toBe(false);
    const off = withFilters({ browserExtensions: false });
    expect(browserExtensionsFilter.check(input({ messages: ["top.GLOBALS"] }), off)).toBe(false);
  });
});
