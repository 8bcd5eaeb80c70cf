import { describe, expect, it } from "vitest";
import { filterInputFromRaygun, filterInputFromSentry } from "./filter-input";

const client = { ip: "203.0.113.9", userAgent: "raygun-node/2.2.8" };

describe("filterInputFromRaygun", () => {
  it("reads PascalCase raygun4js reports", () => {
    const input = filterInputFromRaygun(
      {
        OccurredOn: "2024-01-01T00:00:00Z",
        Details: {
          Version: "1.2.3",
          Error: {
            ClassName: "TypeError",
            Message: "x is undefined",
            StackTrace: [{ FileName: "https://app.example.com/a.js", LineNumber: 1 }, { FileName: "b.js" }],
          },
          Request: { Url: "https://app.example.com/page", Headers: { "User-Agent": "Mozilla/5.0 Browser" } },
        },
      },
      client,
      "error",
    );
    expect(input).toEqual({
      category: "error",
      clientIp: "203.0.113.9",
      userAgent: "Mozilla/5.0 Browser",
      release: "1.2.3",
      messages: ["TypeError: x is undefined", "x is undefined"],
      url: "https://app.example.com/page",
      host: null,
      frameFilenames: ["https://app.example.com/a.js", "b.js"],
    });
  });

  it("reads camelCase server reports and falls back to the HTTP UA", () => {
    const input = filterInputFromRaygun(
      { details: { error: { message: "boom" }, request: { hostName: "localhost:3000", url: "/x" } } },
      client,
      "error",
    );
    expect(input.userAgent).toBe("raygun-node/2.2.8");
    expect(input.host).toBe("localhost:3000");
    expect(input.messages).toEqual(["boom"]);
    expect(input.release).toBeNull();
  });

  it("survives junk and caps frames", () => {
    expect(filterInputFromRaygun(null, client, "error").messages).toEqual([]);
    const stack = Array.from({ length: 200 }, (_, i) => ({ fileName: `f${i}.js` }));
    const input = filterInputFromRaygun({ details: { error: { stackTrace: stack } } }, client, "error");
    expect(input.frameFilenames).toHaveLength(50);
    expect(input.frameFilenames[0]).toBe("f0.js");
  });
});

describe("filterInputFromSentry", () => {
  it("reads exceptions, log messages, request and frames (raising frame first)", () => {
    const input = filterInputFromSentry(
      {
        release: "web@2.0.0",
        exception: {
          values: [
            { type: "Inner", value: "cause" },
            {
              type: "Error",
              value: "outer",
              stacktrace: {
                frames: [
                  { filename: "app.js", abs_path: "https://x.com/app.js" },
                  { filename: "ext.js", abs_path: "chrome-extension://abc/ext.js" },
                ],
              },
            },
          ],
        },
        logentry: { message: "tpl %s", formatted: "tpl 1" },
        request: {
          url: "http://localhost:8080/",
          headers: [
            ["Host", "localhost:8080"],
            ["User-Agent", "Googlebot/2.1"],
          ],
        },
      },
      { ip: null, userAgent: "sentry.javascript" },
      "error",
    );
    expect(input.release).toBe("web@2.0.0");
    expect(input.messages).toEqual(["Error: outer", "outer", "Inner: cause", "cause", "tpl 1", "tpl %s"]);
    expect(input.frameFilenames).toEqual(["chrome-extension://abc/ext.js", "https://x.com/app.js"]);
    expect(input.userAgent).toBe("Googlebot/2.1");
    expect(input.host).toBe("localhost:8080");
    expect(input.url).toBe("http://localhost:8080/");
  });

  it("takes a string message and the client UA when the payload has none", () => {
    const input = filterInputFromSentry({ message: "hello" }, { ip: "::1", userAgent: "UA" }, "default");
    expect(input.messages).toEqual(["hello"]);
    expect(input.userAgent).toBe("UA");
    expect(input.frameFilenames).toEqual([]);
    expect(filterInputFromSentry("nope", { ip: null, userAgent: null }, "error").messages).toEqual([]);
  });
});
