import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../settings";
import { localhostFilter } from "./localhost";
import { input, withFilters } from "./test-helpers";

describe("localhost filter", () => {
  const on = withFilters({ localhost: true });
  it("drops loopback clients, localhost URLs and hosts, file:// pages", () => {
    for (const over of [
      { clientIp: "127.0.0.1" },
      { clientIp: "::1" },
      { url: "http://localhost:3000/x" },
      { url: "http://foo.bar.localhost/" },
      { url: "http://127.0.0.1:8080/" },
      { url: "http://[::1]:8080/" },
      { url: "file:///Users/me/index.html" },
      { url: "/relative", host: "localhost:3000" },
      { url: null, host: "127.0.0.1:8080" },
    ]) {
      expect(localhostFilter.check(input(over), on), JSON.stringify(over)).toBe(true);
    }
  });
  it("keeps lookalikes and is off by default", () => {
    for (const over of [
      { url: "http://localhost.com/" },
      { url: "http://foolocalhost/" },
      { url: "http://my.dom.com/" },
      { host: "localhost.sentry.io:3000" },
    ]) {
      expect(localhostFilter.check(input(over), on), JSON.stringify(over)).toBe(false);
    }
    expect(localhostFilter.check(input({ clientIp: "127.0.0.1" }), DEFAULT_SETTINGS)).toBe(false);
  });
});
