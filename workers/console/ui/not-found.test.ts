// Dashboard pages of a project that does not exist are a 404 page, like an unknown issue of a
// project that does; never the 500 page. Through the real console and a real login session.
import { describe, expect, it } from "vitest";
import { login } from "../../../test/console-login";
import { call, createTestProject } from "../../../test/helpers";

async function status(path: string, cookie: string): Promise<{ status: number; message: string }> {
  const res = await call(path, { headers: { cookie }, redirect: "manual" });
  const html = await res.text();
  return { status: res.status, message: /class="error-message">([^<]*)/.exec(html)?.[1] ?? "" };
}

describe("dashboard pages of an unknown project", () => {
  it("the issue page is a 404 whether the project or only the issue is unknown", async () => {
    const cookie = await login();
    const p = await createTestProject("ui-not-found");
    expect(await status(`/ui/projects/${p.id}/groups/0123456789abcdef`, cookie)).toEqual({
      status: 404,
      message: "Not found: group not found.",
    });
    expect(await status("/ui/projects/424242/groups/0123456789abcdef", cookie)).toEqual({
      status: 404,
      message: "Not found: project not found.",
    });
  });

  it.each(["", "/search?q=x", "/rum", "/releases", "/outcomes", "/alerts", "/artifacts", "/setup"])(
    "/ui/projects/424242%s is a 404",
    async (page) => {
      const cookie = await login();
      expect((await status(`/ui/projects/424242${page}`, cookie)).status).toBe(404);
    },
  );
});

describe("unknown dashboard URLs", () => {
  it.each(["/ui/nope", "/ui/projects/abc", "/ui/projects/1/nope", "/ui/projects/1/groups/xyz"])(
    "%s is the dashboard's HTML 404 page for a logged-in user, the login page otherwise",
    async (path) => {
      const cookie = await login();
      const res = await call(path, { headers: { cookie }, redirect: "manual" });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      const html = await res.text();
      expect(/class="error-message">([^<]*)/.exec(html)?.[1]).toBe("There is no such page.");
      const anonymous = await call(path, { redirect: "manual" });
      await anonymous.body?.cancel();
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get("location")).toBe(`/ui/login?next=${encodeURIComponent(path)}`);
    },
  );

  it("a POST to an unknown dashboard URL without a session is refused, not a 404 page", async () => {
    const res = await call("/ui/nope", { method: "POST", redirect: "manual" });
    await res.body?.cancel();
    expect(res.status).toBe(401);
  });
});
