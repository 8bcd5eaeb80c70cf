// The dashboard in a real headless Chromium (Debian's, never a downloaded one): log in, see a group
// created by the real raygun4node client, open it and its stack trace, search for it, resolve it,
// see it regress on a new event, and check that an XSS payload in a message renders as text.
// Screenshots of the main pages are written to docs/screenshots/ on every run.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./chromium";
import { adminApi, createProject, eventually, stack } from "./client";

const require = createRequire(import.meta.url);
const raygun = require("raygun");

const SHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");
const XSS = "<img src=x onerror=window.__xss=1>";

interface Group {
  id: string;
  message: string;
  status: string;
  count: number;
  regressedAt: string | null;
}

// Same functions on every call, so every report lands in the same group (grouping ignores lines).
function chargeCard(message: string): never {
  throw new Error(message);
}
function renderComment(message: string): never {
  throw new Error(message);
}
async function report(
  client: { send(e: Error): Promise<{ statusCode?: number }> },
  fn: (m: string) => never,
  m: string,
) {
  try {
    fn(m);
  } catch (err) {
    const res = await client.send(err as Error);
    expect(res.statusCode).toBe(202);
  }
}

describe("dashboard in headless Chromium", () => {
  let browser: Browser;
  let page: Page;
  let project: { id: string; key: string; dsn: string };
  let client: { send(e: Error): Promise<{ statusCode?: number }>; setVersion(v: string): void };
  const tag = `zq${Math.random().toString(36).slice(2, 8)}`;
  const message = `card declined by gateway ${tag}`;
  let group: Group;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const groups = async () =>
    (await adminApi<{ groups: Group[] }>(`/api/v1/projects/${project.id}/groups`)).body.groups;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    project = await createProject("Web shop");
    const url = new URL(stack().url);
    client = new raygun.Client().init({
      apiKey: project.key,
      host: url.hostname,
      port: Number(url.port),
      useSSL: false,
    });
    client.setVersion("2.4.1");
    browser = await launchChromium();
    const context = await browser.newContext({
      baseURL: stack().url,
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("logs in with the admin token (wrong token refused)", async () => {
    await page.goto("/ui/");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/ui/login");
    await shot("login");
    await page.fill("input[name=token]", "not-the-token");
    await page.click("button[type=submit]");
    expect(await page.textContent(".err")).toContain("not right");
    await page.fill("input[name=token]", stack().adminToken);
    await page.click("button[type=submit]");
    await page.waitForURL("**/ui/");
    const cookie = (await page.context().cookies()).find((c) => c.name === "sluice_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
  });

  it("shows a group created by the real raygun client", async () => {
    await report(client, chargeCard, message);
    await report(client, chargeCard, message);
    await sendExtras(project);
    group = await eventually(async () =>
      (await groups()).find((g) => g.message === message && g.count === 2),
    );
    // Its events come from the event index, written by the indexer after the group's counters.
    await eventually(async () => {
      const r = await adminApi<{ events: unknown[] }>(
        `/api/v1/projects/${project.id}/groups/${group.id}/events`,
      );
      return r.body.events.length === 2 ? true : null;
    });
    await page.goto("/ui/");
    await expect.poll(() => page.locator(`[data-project-id="${project.id}"]`).count()).toBe(1);
    expect(await page.textContent(`#snip-${project.id}-raygun4js`)).toContain(
      `rg4js('apiKey', "${project.key}")`,
    );
    await page.click(`[data-project-id="${project.id}"] details summary`);
    await shot("projects");
    await page.click(`[data-project-id="${project.id}"] h2 a`);
    const row = page.locator(`tr[data-group-id="${group.id}"]`);
    expect(await row.locator(".issue-msg").textContent()).toBe(message);
    expect(await row.locator("svg rect").count()).toBeGreaterThan(0);
    expect(await row.locator("[data-status]").getAttribute("data-status")).toBe("active");
    await shot("issues");
  });

  it("opens the group and sees the stack trace of its event", async () => {
    await page.click(`tr[data-group-id="${group.id}"] a.issue-title`);
    await page.waitForURL(`**/groups/${group.id}`);
    expect(await page.textContent(".group-message")).toContain(message);
    expect(await page.locator(".frame.app .fn", { hasText: "chargeCard" }).count()).toBeGreaterThan(0);
    await shot("issue");
    await page.click("text=Open full event");
    await page.waitForURL("**/events/*");
    const top = page.locator(".frame.top");
    expect(await top.locator(".fn").textContent()).toBe("chargeCard");
    expect(await top.textContent()).toContain("dashboard.test.ts");
    expect(await page.locator(".frame.lib").count()).toBeGreaterThan(0);
    const raw = await page.request.get(await page.getAttribute("a[download]", "href").then((h) => h!));
    expect(raw.status()).toBe(200);
    expect(await raw.text()).toContain(tag);
    await shot("event");
  });

  it("finds the event with the search box", async () => {
    await page.goto(`/ui/projects/${project.id}`);
    await page.fill("input[name=q]", tag);
    await page.click("form.search-form button");
    await page.waitForURL(`**/search?q=${tag}`);
    await eventually(async () => {
      await page.reload();
      return (await page.locator("tr.hit").count()) === 2;
    });
    expect(await page.locator("tr.hit .issue-msg").first().textContent()).toBe(message);
    await shot("search");
  });

  it("refuses a status change without the CSRF token", async () => {
    const res = await page.request.post(`/ui/projects/${project.id}/groups/${group.id}/status`, {
      form: { status: "resolved" },
    });
    expect(res.status()).toBe(403);
    expect((await groups()).find((g) => g.id === group.id)?.status).toBe("active");
  });

  it("resolves the group, and a new event reopens it as a regression", async () => {
    await page.goto(`/ui/projects/${project.id}/groups/${group.id}`);
    await page.click("button[data-action=resolved]");
    await page.waitForURL(`**/groups/${group.id}`);
    expect(await page.getAttribute(".group-type [data-status]", "data-status")).toBe("resolved");
    expect((await groups()).find((g) => g.id === group.id)?.status).toBe("resolved");

    await report(client, chargeCard, message);
    const after = await eventually(async () =>
      (await groups()).find((g) => g.id === group.id && g.count === 3),
    );
    expect(after.status).toBe("active");
    expect(after.regressedAt).not.toBeNull();
    await page.reload();
    expect(await page.getAttribute(".group-type [data-status]", "data-status")).toBe("active");
    expect(await page.locator(".group-type [data-regressed]").count()).toBe(1);
    expect(await page.locator(".stat.regressed").count()).toBe(1);
    await page.goto(`/ui/projects/${project.id}`);
    expect(await page.locator(`tr[data-group-id="${group.id}"] [data-regressed]`).count()).toBe(1);
  });

  it("renders an XSS payload in a message as text", async () => {
    await report(client, renderComment, XSS);
    const xss = await eventually(async () => (await groups()).find((g) => g.message === XSS));
    for (const path of [
      `/ui/projects/${project.id}`,
      `/ui/projects/${project.id}/search?q=onerror`,
      `/ui/projects/${project.id}/groups/${xss.id}`,
    ]) {
      // The search index may trail the group by a moment: reload until the text shows.
      await eventually(async () => {
        await page.goto(path);
        return page.getByText(XSS).first().isVisible();
      });
      expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
      expect(await page.locator('img[src="x"]').count()).toBe(0);
    }
    await page.click("text=Open full event");
    await page.waitForURL("**/events/*");
    expect(await page.textContent(".event-message")).toBe(XSS);
    expect(await page.evaluate(() => (globalThis as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
  });

  it("shows outcomes, pages (RUM) and release health", async () => {
    await page.goto(`/ui/projects/${project.id}/outcomes`);
    expect(await page.locator("svg.chart rect").count()).toBeGreaterThan(0);
    expect(await page.textContent(".outcome-totals")).toContain("accepted");
    await shot("outcomes");
    await page.goto(`/ui/projects/${project.id}/rum`);
    await shot("rum");
    await page.goto(`/ui/projects/${project.id}/releases`);
    await shot("release-health");
    await page.goto(`/ui/projects/${project.id}/setup`);
    expect(await page.textContent(`#snip-${project.id}-sentry-python`)).toContain(project.dsn);
  });

  it("rotates a project's ingest key from the setup page", async () => {
    const other = await createProject("rotate-me");
    await page.goto(`/ui/projects/${other.id}/setup`);
    await page.click("text=Rotate ingest key");
    await page.waitForURL(`**/ui/projects/${other.id}/setup`);
    const after = await adminApi<{ key: string }>(`/api/v1/projects/${other.id}`);
    expect(after.body.key).toMatch(/^[0-9a-f]{32}$/);
    expect(after.body.key).not.toBe(other.key);
    expect(await page.content()).toContain(after.body.key);
  });

  it("logs out, and the old cookie is dead on the server too", async () => {
    const before = (await page.context().cookies()).find((c) => c.name === "sluice_session");
    expect(before).toBeDefined();
    await page.goto("/ui/");
    await page.click("header form button");
    await page.waitForURL("**/ui/login");
    await page.goto(`/ui/projects/${project.id}`);
    expect(new URL(page.url()).pathname).toBe("/ui/login");
    // Someone who copied the cookie before logout (or a browser that kept it) gets nowhere.
    await page.context().addCookies([before!]);
    await page.goto(`/ui/projects/${project.id}`);
    expect(new URL(page.url()).pathname).toBe("/ui/login");
    const api = await page.request.get(`/api/v1/projects/${project.id}`);
    expect(api.status()).toBe(401);
  });
});

/** RUM page views, Sentry session aggregates and a refused report, so every page has data. */
async function sendExtras(project: { id: string; key: string; dsn: string }) {
  const base = stack().url;
  const now = new Date().toISOString();
  const timings = (url: string, ms: number[]) =>
    JSON.stringify(ms.map((du) => ({ url, timing: { t: "p", du: String(du) } })));
  const rum = {
    eventData: [
      ["https://shop.example/", [180, 240, 320, 410, 520, 690]],
      ["https://shop.example/cart?id=7", [450, 720, 980, 1400]],
      ["https://shop.example/checkout", [900, 1600, 2400]],
    ].map(([url, ms]) => ({
      sessionId: "s1",
      timestamp: now,
      type: "web_request_timing",
      user: { identifier: "u1" },
      version: "2.4.1",
      os: "Linux",
      platform: "Chrome",
      data: timings(url as string, ms as number[]),
    })),
  };
  await fetch(`${base}/events?apikey=${project.key}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rum),
  }).catch(() => null);
  // A truncated report: refused with a 400 and counted as an "invalid" outcome.
  await fetch(`${base}/entries`, {
    method: "POST",
    headers: { "x-apikey": project.key },
    body: '{"details":',
  });
  const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  for (const [release, exited, errored, crashed] of [
    ["web@2.4.1", 480, 12, 3],
    ["web@2.4.0", 900, 40, 41],
  ] as const) {
    const envelope = [
      JSON.stringify({
        sent_at: now,
        dsn: project.dsn,
        sdk: { name: "sentry.javascript.node", version: "11.12.0" },
      }),
      JSON.stringify({ type: "sessions" }),
      JSON.stringify({
        aggregates: [{ started: minute, exited, errored, crashed }],
        attrs: { release, environment: "production" },
      }),
    ].join("\n");
    await fetch(`${base}/api/${project.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      headers: { "content-type": "application/x-sentry-envelope" },
      body: envelope,
    }).catch(() => null);
  }
}
