// The dashboard's Alerts tab in a real headless Chromium against the shared stack: create a rule
// through the form (its secret shown once), send a test alert that a local receiver gets signed,
// see it in the delivery log, get the API's 400 for a bad rule, and delete the rule.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../shared/alerts/signature";
import { poll } from "../poll";
import { type Receiver, startReceiver } from "./alert-receiver";
import { launchChromium, loggedInPage } from "./chromium";
import { adminApi, createProject, stack } from "./client";

const SHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

describe("dashboard alert rules in headless Chromium", () => {
  let browser: Browser;
  let page: Page;
  let receiver: Receiver;
  let project: { id: string };
  let secret = "";
  let ruleId = "";

  beforeAll(async () => {
    receiver = await startReceiver();
    project = await createProject("Alerting shop");
    browser = await launchChromium();
    page = await loggedInPage(browser, stack().url, stack().adminToken);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
  });

  it("creates a rule from the form and shows its signing secret on the rule's page", async () => {
    await page.goto(`/ui/projects/${project.id}`);
    await page.click("nav.tabs a:has-text('Alerts')");
    await page.waitForURL(`**/ui/projects/${project.id}/alerts`);
    expect(await page.textContent(".card .empty")).toContain("No rules yet");
    await page.fill("input[name=name]", "On-call <script>x</script>");
    await page.fill("input[name=url]", `${receiver.url}/ui-hook`);
    await page.check("input[value=regression]");
    await page.click("button:has-text('Create rule')");
    await page.waitForURL(/\/alerts\/[0-9a-f]{16}\?created=1$/);
    ruleId = new URL(page.url()).pathname.split("/").at(-1)!;
    secret = (await page.textContent("[data-secret]"))!.trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    await page.click("text=← Alert rules");
    const row = page.locator("tr[data-rule-id]");
    expect(await row.count()).toBe(1);
    expect(await row.getAttribute("data-rule-id")).toBe(ruleId);
    expect(await row.locator("a.issue-title").textContent()).toBe("On-call <script>x</script>");
    expect(await row.locator("td").nth(1).textContent()).toBe("new_issue, regression");
    const api = await adminApi<{ rules: { id: string; triggers: string[] }[] }>(
      `/api/v1/projects/${project.id}/alert-rules`,
    );
    expect(api.body.rules).toEqual([
      expect.objectContaining({ id: ruleId, triggers: ["new_issue", "regression"] }),
    ]);
    // Lists never carry the secret.
    expect(await page.locator("[data-secret]").count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "alerts.png"), fullPage: true });
  });

  it("sends a test alert the receiver gets signed, and lists it in the deliveries", async () => {
    await page.click(`tr[data-rule-id="${ruleId}"] button[data-action=test]`);
    await page.waitForURL(`**/alerts/${ruleId}?sent=1`);
    const got = await poll(async () => receiver.at("/ui-hook")[0], 30_000, 100, "test alert");
    expect(JSON.parse(got.body)).toMatchObject({
      trigger: "test",
      rule: { id: ruleId },
      project: { id: project.id },
    });
    expect(await verifySignature(secret, got.body, String(got.headers["x-sluice-signature"]))).toBe(true);
    await poll(
      async () => {
        await page.reload();
        return (await page.locator("tr[data-status=delivered]").count()) === 1;
      },
      30_000,
      500,
      "delivery listed",
    );
    expect(await page.locator("tr[data-status=delivered] td").nth(1).textContent()).toBe("test");
  });

  it("shows the API's 400 for a frequency rule without a threshold, and saves nothing", async () => {
    await page.goto(`/ui/projects/${project.id}/alerts`);
    await page.fill("input[name=name]", "too eager");
    await page.fill("input[name=url]", `${receiver.url}/never`);
    await page.uncheck("input[value=new_issue]");
    await page.check("input[value=frequency]");
    const res = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.click("button:has-text('Create rule')"),
    ]);
    expect(res[0].status()).toBe(400);
    expect(await page.textContent(".error-message")).toMatch(/threshold/);
    const api = await adminApi<{ rules: unknown[] }>(`/api/v1/projects/${project.id}/alert-rules`);
    expect(api.body.rules).toHaveLength(1);
  });

  it("deletes the rule", async () => {
    await page.goto(`/ui/projects/${project.id}/alerts`);
    await page.click(`tr[data-rule-id="${ruleId}"] button[data-action=delete]`);
    await page.waitForURL(`**/ui/projects/${project.id}/alerts`);
    expect(await page.locator("tr[data-rule-id]").count()).toBe(0);
    expect((await adminApi(`/api/v1/projects/${project.id}/alert-rules/${ruleId}`)).status).toBe(404);
  });
});
