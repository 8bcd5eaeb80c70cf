// The real @sentry/browser SDK (bundled from node_modules with esbuild) in headless Chromium (Debian's,
// never a downloaded browser), posting cross-origin from a page on another port: proves CORS, and
// that the SDK honours a 429 with X-Sentry-Rate-Limits (the next error is not even sent).
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium";
import { adminApi, createProject, eventually } from "./client";
import { freePort } from "./stack";

const root = join(import.meta.dirname, "..", "..");
let browser: Browser;
let server: Server;
let pageUrl = "";
let sdkBundle = "";

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
  sdkBundle = out.outputFiles[0]!.text;
  const port = await freePort();
  server = createServer((req, res) => {
    if (req.url === "/sentry.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(sdkBundle);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>shop</title><h1>shop</h1>");
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  pageUrl = `http://127.0.0.1:${port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

describe("@sentry/browser in Chromium against Sluice", () => {
  it("posts cross-origin, and stops sending errors after a 429 with X-Sentry-Rate-Limits", async () => {
    const project = await createProject("sentry-browser-e2e");
    // The limit is set before the key is ever used, so the edge's settings cache loads it at once.
    const patched = await adminApi(`/api/v1/projects/${project.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ rateLimitPerMinute: 2, spikeProtection: false }),
    });
    expect(patched.status).toBe(200);

    const page = await browser.newPage();
    const sent: { status: number; limits: string | null }[] = [];
    let eventRequests = 0;
    page.on("request", (req) => {
      if (req.url().includes("/envelope/") && (req.postData() ?? "").includes('"type":"event"'))
        eventRequests++;
    });
    page.on("response", (res) => {
      if (res.url().includes("/envelope/"))
        sent.push({ status: res.status(), limits: res.headers()["x-sentry-rate-limits"] ?? null });
    });
    await page.goto(pageUrl);
    await page.addScriptTag({ url: "/sentry.js" });
    await page.evaluate((dsn) => {
      const S = (globalThis as unknown as { Sentry: typeof import("@sentry/browser") }).Sentry;
      S.init({ dsn, release: "web@1.0.0", integrations: [] });
    }, project.dsn);
    const capture = (n: number) =>
      page.evaluate((i) => {
        const S = (globalThis as unknown as { Sentry: typeof import("@sentry/browser") }).Sentry;
        S.captureException(new Error(`checkout button broke #${i}`));
        return S.flush(3000);
      }, n);

    // Errors are accepted (cross-origin: CORS works) until the project's limit answers 429.
    let i = 0;
    while (!sent.some((s) => s.status === 429) && i < 6) await capture(++i);
    expect(sent[0]!.status).toBe(200);
    const limited = sent.find((s) => s.status === 429);
    expect(limited, JSON.stringify(sent)).toBeDefined();
    expect(limited!.limits).toMatch(/^\d+:[a-z;]*error[a-z;]*:project:rate_limit$/);
    // The SDK read the exposed header: the next error is dropped client-side, never sent.
    const before = eventRequests;
    await capture(99);
    await page.waitForTimeout(500);
    expect(eventRequests).toBe(before);

    const groups = await eventually(async () => {
      const r = await adminApi<{ groups: { count: number; type: string }[] }>(
        `/api/v1/projects/${project.id}/groups`,
      );
      return r.body.groups.length > 0 ? r.body.groups : null;
    });
    expect(groups.reduce((n, g) => n + g.count, 0)).toBeGreaterThanOrEqual(1);
    await page.close();
  });
});
