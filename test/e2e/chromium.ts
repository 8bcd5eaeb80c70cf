// Debian's Chromium, headless, for the browser tests (never a downloaded browser): without the
// background-networking flags it dials Google's hosts at every start and this box refuses them.
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A new page of `browser` on the dashboard at `baseURL`, logged in with the admin token. */
export async function loggedInPage(browser: Browser, baseURL: string, adminToken: string): Promise<Page> {
  const page = await (
    await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } })
  ).newPage();
  await page.goto("/ui/login");
  await page.fill("input[name=token]", adminToken);
  await page.click("button[type=submit]");
  await page.waitForURL("**/ui/");
  return page;
}
