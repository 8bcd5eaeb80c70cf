import { describe, expect, it } from "vitest";
import { isSystemFrame, platformFamily, resolveInApp } from "./in-app-rules";

const frame = (f: { filename?: string; module?: string; absPath?: string }) => ({
  filename: f.filename ?? null,
  module: f.module ?? null,
  absPath: f.absPath ?? null,
});

describe("default in-app rules", () => {
  it("maps Sentry and Raygun platform names to families", () => {
    expect(
      ["java", "kotlin", "python", "go", "node", "javascript", "csharp", "ruby", null].map(platformFamily),
    ).toEqual(["jvm", "jvm", "python", "go", "javascript", "javascript", "csharp", "other", "other"]);
  });

  it.each([
    ["java", { module: "java.lang.Integer", filename: "Integer.java" }, true],
    ["java", { module: "jdk.internal.reflect.DirectMethodHandleAccessor" }, true],
    ["java", { module: "kotlinx.coroutines.DispatchedTask" }, true],
    ["java", { module: "androidx.appcompat.app.AppCompatActivity" }, true],
    ["java", { module: "io.sentry.Sentry" }, true],
    ["java", { module: "Check", filename: "Check.java" }, false],
    ["java", { module: "com.example.javafx.Main" }, false],
    ["python", { absPath: "/usr/lib/python3.11/json/decoder.py", filename: "json/decoder.py" }, true],
    ["python", { filename: "/srv/venv/lib/python3.12/site-packages/requests/api.py" }, true],
    ["python", { filename: "<frozen importlib._bootstrap>" }, true],
    ["python", { filename: "/srv/app/billing.py" }, false],
    ["go", { module: "runtime", absPath: "/usr/local/go/src/runtime/panic.go" }, true],
    ["go", { module: "net/http" }, true],
    [
      "go",
      { module: "github.com/lib/pq", absPath: "/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go" },
      true,
    ],
    ["go", { module: "main", absPath: "/home/ada/go/src/shop/main.go" }, false],
    ["go", { module: "example.com/shop/billing" }, false],
    ["node", { filename: "node:internal/process/task_queues" }, true],
    ["node", { filename: "/app/node_modules/express/lib/router.js" }, true],
    ["javascript", { filename: "chrome-extension://abc/content.js" }, true],
    ["javascript", { filename: "https://shop.example/app.js" }, false],
    ["csharp", { module: "System.Linq.Enumerable" }, true],
    ["csharp", { module: "Shop.Billing" }, false],
    ["ruby", { filename: "/gems/vendor/node_modules/x.js" }, true],
    ["ruby", { filename: "/app/models/order.rb" }, false],
    ["ruby", { filename: "/usr/lib/ruby/3.1.0/net/http.rb" }, true],
  ] as const)("%s %j is a system frame: %s", (platform, f, system) => {
    expect(isSystemFrame(frame(f), platform)).toBe(system);
  });

  it("lets the SDK's own flag win, and leaves unflagged frames undecided when the SDK flags others", () => {
    const jdk = frame({ module: "java.lang.Integer" });
    const app = frame({ module: "Check" });
    expect(resolveInApp(jdk, "java", true)).toBe(true);
    expect(resolveInApp(app, "java", false)).toBe(false);
    expect(resolveInApp(jdk, "java", null)).toBe(false);
    expect(resolveInApp(app, "java", null)).toBe(true);
    expect(resolveInApp(app, "java", null, true)).toBeNull();
    expect(resolveInApp(frame({}), "java", null)).toBeNull();
  });

  it("stays linear on hostile paths", () => {
    const long = `${"/a".repeat(200_000)}site-packages`;
    const t = performance.now();
    for (const p of ["python", "go", "java", "node", "other"])
      isSystemFrame(frame({ filename: long, module: long }), p);
    expect(performance.now() - t).toBeLessThan(500);
  });
});
