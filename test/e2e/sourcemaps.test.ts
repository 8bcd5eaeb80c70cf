// Readable stack traces end to end: an app bundled and minified by esbuild, debug ids injected and
// uploaded with the real sentry-cli binary, throws in headless Chromium through the real
// @sentry/browser; the stored event's frames name the original file, line, column and function
// with context. Also: a rebuilt bundle groups with the first, release-bound (URL) uploads, Raygun's
// upload shape with a raygun4js-shaped report, and bad uploads answered with clear 4xx.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, loggedInPage } from "./chromium";
import { adminApi, createProject, eventually, stack } from "./client";
import { freePort } from "./stack";

const root = join(import.meta.dirname, "..", "..");
const app = join(import.meta.dirname, "sourcemaps-app", "src");
const cli = join(root, "node_modules", ".bin", "sentry-cli");
const files = new Map<string, string>();
let browser: Browser;
let server: Server;
let origin = "";

interface Frame {
  filename: string | null;
  function: string | null;
  lineno: number | null;
  colno: number | null;
  inApp: boolean | null;
  contextLine?: string | null;
  preContext?: string[];
  postContext?: string[];
  minified?: {
    filename: string | null;
    function: string | null;
    lineno: number | null;
    colno: number | null;
  };
  unmapped?: string;
}
interface StoredEvent {
  exceptions: { frames: Frame[] }[];
}

/** Bundles `entry` minified with a source map into a fresh directory as `name`. */
async function bundle(entry: string, name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-sm-"));
  await build({
    entryPoints: [join(app, entry)],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: "iife",
    platform: "browser",
    outfile: join(dir, name),
    logLevel: "silent",
  });
  return dir;
}

function sentryCli(args: string[], project: string) {
  const r = spawnSync(cli, args, {
    encoding: "utf8",
    env: {
      ...process.env,
      SENTRY_URL: stack().url,
      SENTRY_AUTH_TOKEN: stack().adminToken,
      SENTRY_ORG: "any-org",
      SENTRY_PROJECT: project,
    },
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

/** Serves a built file at `path` on the page's origin. */
function serve(path: string, file: string) {
  files.set(path, readFileSync(file, "utf8"));
}

/** Loads the SDK and `script` in a fresh page, runs the shop, and reports the error to Sentry. */
async function throwInBrowser(dsn: string, script: string, release: string) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.addScriptTag({ url: "/sentry.js" });
    await page.evaluate(
      ([d, r]) => {
        const S = (globalThis as unknown as { Sentry: typeof import("@sentry/browser") }).Sentry;
        S.init({ dsn: d, release: r, integrations: [] });
      },
      [dsn, release],
    );
    await page.addScriptTag({ url: script });
    await page.evaluate(async () => {
      const g = globalThis as unknown as {
        Sentry: typeof import("@sentry/browser");
        runShop: (report: (e: unknown) => void) => void;
      };
      g.runShop((e) => g.Sentry.captureException(e));
      await g.Sentry.flush(5000);
    });
  } finally {
    await page.close();
  }
}

async function groupsOf(projectId: string, atLeast: number) {
  return eventually(async () => {
    const r = await adminApi<{ groups: { id: string; count: number }[] }>(
      `/api/v1/projects/${projectId}/groups`,
    );
    const total = r.body.groups.reduce((n, g) => n + g.count, 0);
    return total >= atLeast ? r.body.groups : null;
  }, 30_000);
}

async function eventIdsOf(projectId: string, groupId: string, atLeast = 1): Promise<string[]> {
  return eventually(async () => {
    const r = await adminApi<{ events: { id: string }[] }>(
      `/api/v1/projects/${projectId}/groups/${groupId}/events`,
    );
    return r.body.events.length >= atLeast ? r.body.events.map((e) => e.id) : null;
  }, 30_000);
}

async function eventsOf(projectId: string, groupId: string, atLeast = 1): Promise<StoredEvent[]> {
  const ids = await eventually(async () => {
    const r = await adminApi<{ events: { id: string }[] }>(
      `/api/v1/projects/${projectId}/groups/${groupId}/events`,
    );
    return r.body.events.length >= atLeast ? r.body.events.map((e) => e.id) : null;
  }, 30_000);
  return Promise.all(
    ids.map(async (id) => {
      const r = await eventually(async () => {
        const e = await adminApi<{ event: StoredEvent }>(`/api/v1/projects/${projectId}/events/${id}`);
        return e.status === 200 ? e.body.event : null;
      });
      return r;
    }),
  );
}

const top = (e: StoredEvent) => e.exceptions.at(-1)!.frames.at(-1)!;

/** 1-based line and column of `needle` in an original source file. */
function positionIn(file: string, needle: string) {
  const lines = readFileSync(join(app, file), "utf8").split("\n");
  const line = lines.findIndex((l) => l.includes(needle));
  return { lineno: line + 1, colno: lines[line]!.indexOf(needle) + 1 };
}

beforeAll(async () => {
  const sdk = await build({
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
  files.set("/sentry.js", sdk.outputFiles[0]!.text);
  const port = await freePort();
  server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    res.writeHead(body === undefined ? (req.url === "/" ? 200 : 404) : 200, {
      "content-type": req.url?.endsWith(".js") ? "text/javascript" : "text/html",
    });
    res.end(body ?? "<!doctype html><title>shop</title>");
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  origin = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

describe("sentry-cli debug-id upload and @sentry/browser in Chromium", () => {
  let project: { id: string; dsn: string };
  let firstGroup = "";

  it("maps the thrown error to the original file, line, column and function, with context", async () => {
    project = await createProject("sourcemaps-debug-id");
    const dir = await bundle("main.js", "app.js");
    const inject = sentryCli(["sourcemaps", "inject", dir], project.id);
    expect(inject.status, inject.output).toBe(0);
    const upload = sentryCli(["sourcemaps", "upload", dir], project.id);
    expect(upload.status, upload.output).toBe(0);
    // A second upload of the same bundle sends no chunk: the assembled bundle is already there.
    const again = sentryCli(["sourcemaps", "upload", dir], project.id);
    expect(again.status, again.output).toBe(0);
    expect(again.output).toMatch(/Nothing to upload/);

    serve("/v1/app.js", join(dir, "app.js"));
    await throwInBrowser(project.dsn, "/v1/app.js", "shop@1");
    const [group] = await groupsOf(project.id, 1);
    firstGroup = group!.id;
    const [event] = await eventsOf(project.id, firstGroup);
    const frame = top(event!);
    const raised = positionIn("cart.js", "new Error(");
    expect(frame).toMatchObject({
      filename: expect.stringMatching(/(^|\/)sourcemaps-app\/src\/cart\.js$/),
      function: "checkout",
      lineno: raised.lineno,
      colno: raised.colno,
      inApp: true,
    });
    expect(frame.contextLine).toMatch(/throw new Error\(`cart \$\{cart\.id\} has no payment method`\)/);
    expect(frame.preContext?.at(-1)).toContain("if (!cart.paymentMethod)");
    expect(frame.postContext?.[0]).toContain("}");
    expect(frame.minified?.filename).toContain("/v1/app.js");
    expect(frame.minified?.lineno).not.toBe(raised.lineno);
    // The caller is mapped too: submitOrder in main.js called checkout.
    const caller = event!.exceptions.at(-1)!.frames.at(-2)!;
    expect(caller).toMatchObject({
      filename: expect.stringMatching(/(^|\/)sourcemaps-app\/src\/main\.js$/),
      function: "submitOrder",
    });
    expect(caller.lineno).toBe(positionIn("main.js", "checkout(cart)").lineno);

    const listed = await adminApi<{ bundles: { files: { kind: string; debugId: string | null }[] }[] }>(
      `/api/v1/projects/${project.id}/artifacts`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.bundles).toHaveLength(1);
    expect(listed.body.bundles[0]!.files.find((f) => f.kind === "source_map")?.debugId).toMatch(
      /^[0-9a-f]{32}$/,
    );
  });

  it("groups the same bug from a rebuilt bundle (other names and positions) with the first", async () => {
    const dir = await bundle("main-v2.js", "shop.js");
    expect(sentryCli(["sourcemaps", "inject", dir], project.id).status).toBe(0);
    const upload = sentryCli(["sourcemaps", "upload", dir], project.id);
    expect(upload.status, upload.output).toBe(0);
    serve("/v2/shop.js", join(dir, "shop.js"));
    await throwInBrowser(project.dsn, "/v2/shop.js", "shop@2");
    const groups = await groupsOf(project.id, 2);
    expect(groups.map((g) => g.id)).toEqual([firstGroup]);
    const events = await eventsOf(project.id, firstGroup, 2);
    const minified = events.map((e) => top(e).minified);
    expect(new Set(minified.map((m) => `${m?.filename}:${m?.lineno}:${m?.colno}`)).size).toBe(2);
    expect(events.map((e) => top(e).function)).toEqual(["checkout", "checkout"]);
  });

  it("shows the original source on the dashboard's event page, with a toggle to the minified frames", async () => {
    const [eventId] = await eventIdsOf(project.id, firstGroup);
    const page = await loggedInPage(browser, stack().url, stack().adminToken);
    try {
      await page.goto(`/ui/projects/${project.id}/events/${eventId}`);
      const hit = page.locator(".frame.top .src-line.hit");
      expect(await hit.textContent()).toMatch(/^\d+\s*throw new Error\(/);
      expect(await page.locator(".frame.top .orig .fn").textContent()).toBe("checkout");
      expect(await page.locator(".frame.top .min .fn").isVisible()).toBe(false);
      if (process.env.SLUICE_SHOTS)
        await page.screenshot({ path: join(process.env.SLUICE_SHOTS, "event.png"), fullPage: true });
      await page.click("label.min-label");
      expect(await page.locator(".frame.top .min .fn").isVisible()).toBe(true);
      expect(await page.locator(".frame.top .src").isVisible()).toBe(false);

      await page.goto(`/ui/projects/${project.id}/artifacts`);
      expect(await page.locator("table.artifacts tbody tr").count()).toBe(2);
      if (process.env.SLUICE_SHOTS)
        await page.screenshot({ path: join(process.env.SLUICE_SHOTS, "artifacts.png"), fullPage: true });
      await page.locator("table.artifacts tbody tr").first().locator("button").click();
      await page.waitForURL("**/artifacts");
      expect(await page.locator("table.artifacts tbody tr").count()).toBe(1);
    } finally {
      await page.context().close();
    }
  });
});

describe("release-bound upload (no debug ids)", () => {
  it("resolves frames by release and ~/ URL", async () => {
    const project = await createProject("sourcemaps-release");
    const dir = await bundle("main.js", "app.js");
    const upload = sentryCli(
      ["sourcemaps", "upload", "--release", "shop@3", "--url-prefix", "~/rel", dir],
      project.id,
    );
    expect(upload.status, upload.output).toBe(0);
    serve("/rel/app.js", join(dir, "app.js"));
    await throwInBrowser(project.dsn, "/rel/app.js", "shop@3");
    const [group] = await groupsOf(project.id, 1);
    const [event] = await eventsOf(project.id, group!.id);
    expect(top(event!)).toMatchObject({
      filename: expect.stringMatching(/(^|\/)sourcemaps-app\/src\/cart\.js$/),
      function: "checkout",
    });
    expect(top(event!).lineno).toBe(positionIn("cart.js", "new Error(").lineno);
  });
});

async function raygunUpload(projectId: string, url: string, map: string | Blob, token = stack().adminToken) {
  const form = new FormData();
  form.set("url", url);
  form.set(
    "file",
    typeof map === "string" ? new Blob([map], { type: "application/json" }) : map,
    "app.js.map",
  );
  return fetch(`${stack().url}/upload/jssymbols/${projectId}?authToken=${encodeURIComponent(token)}`, {
    method: "POST",
    body: form,
  });
}

describe("Raygun's upload shape and a raygun4js-shaped report", () => {
  it("maps a Raygun report's frames with a map uploaded for the file's URL", async () => {
    const project = await createProject("sourcemaps-raygun");
    const dir = await bundle("main.js", "app.min.js");
    const url = "https://shop.example/static/app.min.js";
    const up = await raygunUpload(project.id, url, readFileSync(join(dir, "app.min.js.map"), "utf8"));
    expect(up.status, await up.clone().text()).toBe(200);
    const listed = await fetch(`${stack().url}/v3/applications/${project.id}/source-maps`, {
      headers: { authorization: `Bearer ${stack().adminToken}` },
    });
    expect(((await listed.json()) as { uri: string }[]).map((m) => m.uri)).toEqual(["~/static/app.min.js"]);

    // Run the minified bundle as if loaded from that URL: V8 gives the real minified positions.
    const sandbox: Record<string, unknown> = {};
    sandbox.globalThis = sandbox;
    runInNewContext(readFileSync(join(dir, "app.min.js"), "utf8"), sandbox, { filename: url });
    let stackText = "";
    (sandbox.runShop as (r: (e: Error) => void) => void)((e) => {
      stackText = e.stack ?? "";
    });
    const frames = [...stackText.matchAll(/at (?:(\S+) \()?(https:[^\s)]+):(\d+):(\d+)\)?/g)].map((m) => ({
      LineNumber: Number(m[3]),
      ColumnNumber: Number(m[4]),
      ClassName: `line ${m[3]}, column ${m[4]}`,
      FileName: m[2],
      MethodName: m[1] ?? "[anonymous]",
    }));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const report = {
      OccurredOn: new Date().toISOString(),
      Details: {
        Error: {
          ClassName: "Error",
          Message: "cart c-1 has no payment method",
          StackTrace: frames,
          StackString: stackText,
        },
        Client: { Name: "raygun-js", Version: "3.1.4" },
        Request: { Url: "https://shop.example/cart", QueryString: {}, Headers: {} },
        Tags: ["UnhandledException"],
      },
    };
    const sent = await fetch(`${stack().url}/entries`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-apikey": (project as { key: string }).key },
      body: JSON.stringify(report),
    });
    expect(sent.status).toBe(202);
    const [group] = await groupsOf(project.id, 1);
    const [event] = await eventsOf(project.id, group!.id);
    expect(top(event!)).toMatchObject({
      filename: expect.stringMatching(/(^|\/)sourcemaps-app\/src\/cart\.js$/),
      function: "checkout",
      lineno: positionIn("cart.js", "new Error(").lineno,
    });
    expect(top(event!).contextLine).toContain("throw new Error(");
    expect(top(event!).minified?.filename).toBe(url);

    const del = await fetch(
      `${stack().url}/v3/applications/${project.id}/source-maps/${((await up.json()) as { identifier: string }).identifier}`,
      {
        method: "DELETE",
        headers: { authorization: `Bearer ${stack().adminToken}` },
      },
    );
    expect(del.status).toBe(204);
    const after = await adminApi<{ bundles: unknown[] }>(`/api/v1/projects/${project.id}/artifacts`);
    expect(after.body.bundles).toEqual([]);
  });
});

describe("bad uploads get a clear 4xx, bad maps a recorded reason, and no event is lost", () => {
  it("refuses a chunk whose content does not match its SHA-1 name", async () => {
    const form = new FormData();
    form.append("file", new Blob(["not what the name says"]), "0123456789abcdef0123456789abcdef01234567");
    const r = await fetch(`${stack().url}/api/0/organizations/any/chunk-upload/`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack().adminToken}` },
      body: form,
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/checksum mismatch/);
  });

  it("answers 413 to a 50 MB upload, on both upload routes", async () => {
    const project = await createProject("sourcemaps-too-large");
    const big = new Blob([new Uint8Array(50 * 1024 * 1024)]);
    const raygun = await raygunUpload(project.id, "https://x.example/a.js", big);
    expect(raygun.status).toBe(413);
    const form = new FormData();
    form.append("file", big, "0123456789abcdef0123456789abcdef01234567");
    const chunk = await fetch(`${stack().url}/api/0/organizations/any/chunk-upload/`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack().adminToken}` },
      body: form,
    });
    expect(chunk.status).toBe(413);
  });

  it("refuses a corrupt map from Raygun's upload and from sentry-cli, with the reason", async () => {
    const project = await createProject("sourcemaps-corrupt");
    const r = await raygunUpload(project.id, "https://x.example/a.js", '{"version":3,"mappings":');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/not JSON/);

    const dir = mkdtempSync(join(tmpdir(), "sluice-sm-bad-"));
    writeFileSync(
      join(dir, "bad.js"),
      "function a(){throw new Error('x')}a();\n//# sourceMappingURL=bad.js.map\n",
    );
    writeFileSync(join(dir, "bad.js.map"), '{"version":3,"sources":["a.js"],"mappings":"AAAA');
    const upload = sentryCli(["sourcemaps", "upload", "--release", "bad@1", dir], project.id);
    expect(upload.status).not.toBe(0);
    expect(upload.output).toMatch(/bad\.js\.map is not JSON/);
    const listed = await adminApi<{ bundles: unknown[] }>(`/api/v1/projects/${project.id}/artifacts`);
    expect(listed.body.bundles).toEqual([]);
  });

  it("stores an event whose map is for another file, recording why its frame was not mapped", async () => {
    const project = await createProject("sourcemaps-wrong-map");
    const dir = await bundle("banner.js", "banner.js");
    const url = "https://shop.example/static/checkout.min.js";
    const up = await raygunUpload(project.id, url, readFileSync(join(dir, "banner.js.map"), "utf8"));
    expect(up.status).toBe(200);
    const report = {
      OccurredOn: new Date().toISOString(),
      Details: {
        Error: {
          ClassName: "TypeError",
          Message: "x is undefined",
          StackTrace: [{ LineNumber: 40, ColumnNumber: 7, FileName: url, MethodName: "t" }],
        },
        Client: { Name: "raygun-js", Version: "3.1.4" },
      },
    };
    const sent = await fetch(`${stack().url}/entries`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-apikey": (project as { key: string }).key },
      body: JSON.stringify(report),
    });
    expect(sent.status).toBe(202);
    const [group] = await groupsOf(project.id, 1);
    const [event] = await eventsOf(project.id, group!.id);
    expect(top(event!)).toMatchObject({ filename: url, lineno: 40, colno: 7 });
    expect(top(event!).unmapped).toMatch(/^out_of_range: line 40, column 7 has no mapping/);
  });
});
