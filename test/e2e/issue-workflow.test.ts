// The issue workflow end to end: the real @sentry/node SDK sends errors from two environments and
// releases, with users, and user feedback (captureFeedback); a real headless Chromium then filters
// the issue list by environment and release, sees affected users beside the event counts, merges
// two issues from the list, follows a merged issue to its target, and reads the feedback on the
// issue and event pages.
import { join } from "node:path";
import * as Sentry from "@sentry/node";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, loggedInPage } from "./chromium";
import { adminApi, createProject, eventually, stack } from "./client";

const SHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

interface Group {
  id: string;
  type: string;
  count: number;
  users: number;
  mergedInto: string | null;
}

let project: { id: string; key: string; dsn: string };
let browser: Browser;
let page: Page;
const ids: Record<string, string> = {};

function send(kind: string, user: string, environment: string, release: string): string {
  let id = "";
  Sentry.withScope((scope) => {
    // One client, several environments and releases, set per event (processing is asynchronous,
    // so the values travel with the event's scope).
    scope.addEventProcessor((event) => ({ ...event, environment, release }));
    scope.setUser({ id: user });
    scope.setFingerprint([kind]);
    const err = new Error(`${kind} failed for ${user}`);
    err.name = `${kind}Error`;
    id = Sentry.captureException(err);
  });
  return id;
}

const groups = async (query = "") =>
  (await adminApi<{ groups: Group[] }>(`/api/v1/projects/${project.id}/groups${query}`)).body.groups;
const rowIds = () =>
  page.locator("tr.group-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-group-id")));

beforeAll(async () => {
  project = await createProject("workflow-e2e");
  Sentry.init({ dsn: project.dsn });
  const payment = send("Payment", "u1", "production", "shop@1.0");
  send("Payment", "u2", "production", "shop@1.0");
  send("Payment", "u1", "production", "shop@1.0");
  send("Inventory", "u3", "staging", "shop@1.1");
  send("Shipping", "u1", "production", "shop@1.1");
  await Sentry.flush(5000);
  // Feedback comes after the crash (the user saw it): once the event is in the event index.
  await eventually(
    async () =>
      (await adminApi(`/api/v1/projects/${project.id}/events/${payment.replace(/-/g, "")}`)).status === 200,
  );
  Sentry.captureFeedback({
    message: "I was charged twice",
    name: "Ada",
    email: "ada@example.com",
    associatedEventId: payment,
  });
  await Sentry.flush(5000);
  const all = await eventually(async () => {
    const gs = await groups();
    if (gs.reduce((s, g) => s + g.count, 0) === 5) return gs;
    throw new Error(`groups so far: ${JSON.stringify(gs.map((g) => [g.type, g.count]))}`);
  });
  for (const g of all) ids[g.type] = g.id;
  await eventually(async () => {
    const r = await adminApi<{ feedback: unknown[] }>(
      `/api/v1/projects/${project.id}/groups/${ids.PaymentError}/feedback`,
    );
    return r.body.feedback.length === 1;
  });
  browser = await launchChromium();
  page = await loggedInPage(browser, stack().url, stack().adminToken);
});

afterAll(async () => {
  await browser?.close();
  await Sentry.close(2000);
});

describe("issue workflow in the dashboard", () => {
  it("shows affected users beside the event count", async () => {
    await page.goto(`/ui/projects/${project.id}`);
    const payment = page.locator(`tr[data-group-id="${ids.PaymentError}"]`);
    expect(await payment.locator("td.num").first().textContent()).toBe("3");
    expect(await payment.locator(".users-count").textContent()).toBe("2");
  });

  it("filters the issue list by environment and release", async () => {
    await page.goto(`/ui/projects/${project.id}`);
    await page.fill("form.facet-filters input[name=environment]", "staging");
    await page.click("form.facet-filters button[type=submit]");
    await page.waitForURL("**environment=staging**");
    expect(await rowIds()).toEqual([ids.InventoryError]);
    await page.fill("form.facet-filters input[name=environment]", "");
    await page.fill("form.facet-filters input[name=release]", "shop@1.1");
    await page.click("form.facet-filters button[type=submit]");
    await page.waitForURL("**release=shop%401.1**");
    expect((await rowIds()).sort()).toEqual([ids.InventoryError, ids.ShippingError].sort());
    await page.fill("form.facet-filters input[name=environment]", "production");
    await page.click("form.facet-filters button[type=submit]");
    expect(await rowIds()).toEqual([ids.ShippingError]);
    await page.screenshot({ path: join(SHOTS, "issues-filtered.png"), fullPage: true });
  });

  it("refuses a merge of fewer than two issues, or without the CSRF token", async () => {
    const res = await page.request.post(`/ui/projects/${project.id}/groups/merge`, {
      form: { groups: ids.ShippingError! },
    });
    expect(res.status()).toBe(403);
    await page.goto(`/ui/projects/${project.id}`);
    await page.check(`tr[data-group-id="${ids.ShippingError}"] input[name=groups]`);
    await page.click("button[data-action=merge]");
    expect(await page.textContent(".error-message")).toContain("at least two");
    expect((await groups()).length).toBe(3);
  });

  it("merges the selected issues from the list into the one with the most events", async () => {
    await page.goto(`/ui/projects/${project.id}`);
    await page.check(`tr[data-group-id="${ids.PaymentError}"] input[name=groups]`);
    await page.check(`tr[data-group-id="${ids.ShippingError}"] input[name=groups]`);
    await page.click("button[data-action=merge]");
    await page.waitForURL(`**/groups/${ids.PaymentError}`);
    const stats = await page.locator(".stat b").allTextContents();
    expect(stats[0]).toBe("4");
    expect(await page.textContent(".users-count")).toBe("2");
    const after = await groups();
    expect(after.map((g) => g.id).sort()).toEqual([ids.PaymentError, ids.InventoryError].sort());
    expect(after.find((g) => g.id === ids.PaymentError)?.count).toBe(4);
    // The merged issue's page leads to the one it was merged into.
    await page.goto(`/ui/projects/${project.id}/groups/${ids.ShippingError}`);
    await page.waitForURL(`**/groups/${ids.PaymentError}`);
    // Its release now matches the target in the release filter.
    await page.goto(`/ui/projects/${project.id}?release=shop%401.1&environment=production`);
    expect(await rowIds()).toEqual([ids.PaymentError]);
    await page.screenshot({ path: join(SHOTS, "issues-merged.png"), fullPage: true });
  });

  it("shows the user's feedback on the issue and on its event", async () => {
    await page.goto(`/ui/projects/${project.id}/groups/${ids.PaymentError}`);
    const item = page.locator(".feedback .feedback-item").first();
    expect(await item.locator(".feedback-message").textContent()).toBe("I was charged twice");
    expect(await item.textContent()).toContain("ada@example.com");
    await page.screenshot({ path: join(SHOTS, "issue-feedback.png"), fullPage: true });
    await item.locator("a", { hasText: "event" }).click();
    await page.waitForURL("**/events/*");
    expect(await page.textContent(".feedback .feedback-message")).toBe("I was charged twice");
  });
});
