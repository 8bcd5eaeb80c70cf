// The browser SDKs in Debian's headless Chromium, from their npm packages: @sentry/browser (bundled
// with esbuild) and raygun4js (its dist file, loaded by Raygun's own async snippet), crash reports
// and RUM page views with timings. The page is served from another port, so every post is CORS.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../e2e/chromium";
import { adminApi, createProject, eventually, stack } from "../e2e/client";
import { freePort } from "../e2e/stack";
import { recordResult } from "./matrix";
import { outcomes, verifyScenario } from "./scenario";

const root = join(import.meta.dirname, "..", "..");
const require = createRequire(import.meta.url);
const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
const raygunDist = join(root, "node_modules", "raygun4js", "dist");

let browser: Browser;
let server: Server;
let origin = "";
const files: Record<string, string> = {};

beforeAll(async () => {
  const out = await build({
    stdin: {
      contents: 'import * as Sentry from "@sentry/browser"; globalThis.Sentry = Sentry;',
      resolveDir: root,
      loader: "js",
    },
    bundle: true,
    format: "iife",
    write: false,
    minify: true,
    platform: "browser",
  });
  files["/sentry.js"] = out.outputFiles[0]!.text;
  files["/raygun.js"] = readFileSync(join(raygunDist, "raygun.js"), "utf8");
  files["/app.js"] = readFileSync(join(import.meta.dirname, "clients", "browser", "app.js"), "utf8");
  // Raygun's documented async snippet, pointed at the dist file served here instead of its CDN.
  const snippet = readFileSync(join(raygunDist, "snippet", "minified.js"), "utf8").replace(
    "//cdn.raygun.io/raygun4js/raygun.min.js",
    "/raygun.js",
  );
  if (!snippet.includes('"/raygun.js"')) throw new Error("raygun4js snippet changed: no CDN URL to replace");
  files["/snippet.js"] = snippet;
  const port = await freePort();
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const body = files[path];
    if (body !== undefined) {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(body);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><title>shop</title><h1>${path.replace(/[^\w/]/g, "")}</h1>`);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  origin = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

/** Collects the page's posts to the stack and their statuses (every one must be a success). */
function watch(page: Page): { url: string; status: number }[] {
  const seen: { url: string; status: number }[] = [];
  page.on("response", (res) => {
    if (res.url().startsWith(stack().url) && res.request().method() === "POST")
      seen.push({ url: res.url(), status: res.status() });
  });
  return seen;
}

describe("browser SDKs in Chromium", () => {
  it("@sentry/browser", async () => {
    const project = await createProject("compat-sentry-browser");
    const page = await browser.newPage();
    const posts = watch(page);
    await page.goto(`${origin}/checkout`);
    await page.addScriptTag({ url: "/sentry.js" });
    await page.addScriptTag({ url: "/app.js" });
    await page.evaluate(async (dsn) => {
      const S = (globalThis as unknown as { Sentry: typeof import("@sentry/browser") }).Sentry;
      S.init({ dsn, release: "compat@1.2.3", environment: "compat" });
      S.setUser({ id: "u-42", email: "ada@example.com", username: "ada" });
      S.setTag("feature", "checkout");
      S.addBreadcrumb({ category: "config", message: "loading config", level: "info" });
      const w = globalThis as unknown as { runScenario(report: (e: unknown) => void): void };
      w.runScenario((e) => S.captureException(e));
      S.captureMessage("compat message");
      await S.flush(10_000);
    }, project.dsn);
    const verified = await verifyScenario({
      projectId: project.id,
      errorType: "RangeError",
      raisingFunction: "parsePort",
      callerFunction: "loadConfig",
      otherType: "TypeError",
      otherFunction: "divide",
      messageContains: "invalid port",
      message: "compat message",
      user: { id: "u-42", email: "ada@example.com" },
      tags: { feature: "checkout" },
      release: "compat@1.2.3",
      environment: "compat",
      breadcrumb: "loading config",
      fixture: "shared/sentry/fixtures/compat/sentry-browser.json",
    });
    await page.close();
    expect(posts.length).toBeGreaterThanOrEqual(4);
    expect(posts.filter((p) => p.status !== 200)).toEqual([]);
    const { accepted, dropped } = await outcomes(project.id);
    expect(dropped).toEqual([]);
    // The browser SDK starts a session on page load by default.
    expect(accepted.session).toBeGreaterThanOrEqual(1);
    recordResult({
      slug: "sentry-browser",
      sdk: "`@sentry/browser` (Chromium)",
      protocol: "Sentry",
      version: version("@sentry/browser"),
      verified: [...verified, "CORS", "session"],
      notSupported: [],
      accepted: Object.keys(accepted),
    });
  });

  it("raygun4js: crash reports and RUM page views with timings", async () => {
    const project = await createProject("compat-raygun4js");
    const page = await browser.newPage();
    const posts = watch(page);
    await page.goto(`${origin}/checkout`);
    // As Raygun's docs show it: the snippet, then the configuration in the same page script, before
    // the dist file has loaded (the snippet queues the calls and the SDK replays them).
    const config = [
      ["apiKey", project.key],
      ["options", { apiEndpoint: stack().url }],
      ["enableCrashReporting", true],
      ["enablePulse", true],
      ["setVersion", "compat@1.2.3"],
      ["setUser", { identifier: "u-42", email: "ada@example.com", fullName: "ada", isAnonymous: false }],
      ["withTags", ["checkout"]],
    ];
    await page.addScriptTag({
      content: `${files["/snippet.js"]}\n${config.map((c) => `rg4js(...${JSON.stringify(c)});`).join("\n")}`,
    });
    // The snippet loads the dist file asynchronously; it replays the queued calls once loaded.
    await page.waitForFunction(
      () => typeof (globalThis as { Raygun?: { send?: unknown } }).Raygun?.send === "function",
    );
    await page.addScriptTag({ url: "/app.js" });
    await page.evaluate(() => {
      const w = globalThis as unknown as {
        rg4js(...args: unknown[]): void;
        runScenario(report: (e: unknown) => void): void;
      };
      w.rg4js("recordBreadcrumb", "loading config", { step: 1 });
      w.runScenario((error) => w.rg4js("send", { error }));
    });
    const verified = await verifyScenario({
      projectId: project.id,
      errorType: "RangeError",
      raisingFunction: "parsePort",
      callerFunction: "loadConfig",
      otherType: "TypeError",
      otherFunction: "divide",
      messageContains: "invalid port",
      user: { id: "u-42", email: "ada@example.com" },
      tags: { checkout: "true" },
      release: "compat@1.2.3",
      environment: null,
      breadcrumb: "loading config",
      fixture: "shared/raygun/fixtures/compat/raygun4js.json",
    });
    // RUM: the page view with its timings, sent on load and flushed when the page goes away.
    await page.goto(`${origin}/thanks`);
    await page.close({ runBeforeUnload: true });
    const pages = await eventually(async () => {
      const r = await adminApi<{
        pages: { page: string; views: number; loadCount: number; avgLoadMs: number | null }[];
      }>(`/api/v1/projects/${project.id}/rum/pages`);
      const p = r.body.pages.find((x) => x.page === "/checkout");
      return p && p.loadCount > 0 ? r.body.pages : null;
    }, 30_000);
    const checkout = pages.find((x) => x.page === "/checkout")!;
    expect(checkout.views).toBeGreaterThanOrEqual(1);
    expect(checkout.avgLoadMs).not.toBeNull();
    expect(posts.filter((p) => p.status !== 202)).toEqual([]);
    const { accepted, dropped } = await outcomes(project.id);
    expect(dropped).toEqual([]);
    expect(accepted.rum).toBeGreaterThanOrEqual(1);
    recordResult({
      slug: "raygun-js",
      sdk: "raygun4js (Chromium, async snippet)",
      protocol: "Raygun",
      version: version("raygun4js"),
      verified: [...verified, "CORS", "RUM page views with load timings"],
      notSupported: ["environment and messages: not part of the Raygun crash-report protocol"],
      accepted: Object.keys(accepted),
    });
  });
});
