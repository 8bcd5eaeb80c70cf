// Where the dashboard's forms redirect to after they acted: `next` of the login form and `back` of
// the issue status form are local dashboard paths or /ui/, and never a 500 (a NUL or a character
// a Location header cannot hold once made the redirect throw after the login or status change
// had happened). Through the real console, a real login session and a real issue.
import { beforeAll, describe, expect, it } from "vitest";
import { login, TOKEN } from "../../../test/console-login";
import { ADMIN, BASE, call, createTestProject, type TestProject, waitFor } from "../../../test/helpers";
import { safeNext } from "./session";

const form = (body: Record<string, string>, cookie = "") => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(body).toString(),
});

describe("safeNext", () => {
  it("keeps local dashboard paths and sends everything else to /ui/", () => {
    expect(safeNext("/ui/projects/1?status=resolved#x")).toBe("/ui/projects/1?status=resolved#x");
    expect(safeNext("/ui/search?q=caf\u00e9 \u20ac")).toBe("/ui/search?q=caf%C3%A9%20%E2%82%AC");
    for (const bad of [
      "/ui/\u0000",
      "/ui/\t",
      "/ui/\r\nSet-Cookie: x=1",
      "/ui/\u007f",
      "/ui/\\evil",
      "//evil.example/ui/",
      "/ui/../api/v1/projects",
      "/ui/%2e%2e/api/v1/projects",
      "https://evil.example/ui/",
      "/api/v1/projects",
      "",
      undefined,
      ["/ui/x"],
    ])
      expect(safeNext(bad), JSON.stringify(bad)).toBe("/ui/");
  });
});

describe("redirects after a dashboard form acted", () => {
  let project: TestProject;
  let groupId: string;
  beforeAll(async () => {
    project = await createTestProject("ui-redirects");
    const sent = await call(`/entries?apikey=${project.key}`, {
      method: "POST",
      body: JSON.stringify({
        occurredOn: new Date().toISOString(),
        details: { error: { className: "RedirectProbe", message: "probe" } },
      }),
    });
    expect(sent.status).toBe(202);
    groupId = await waitFor(async () => {
      const res = await call(`/api/v1/projects/${project.id}/groups`, { headers: ADMIN });
      return ((await res.json()) as { groups: { id: string }[] }).groups[0]?.id;
    });
  });

  it.each(["/ui/\u0000", "/ui/\u20ac\u0000", "/ui/\u0100"])(
    "login with next=%j redirects to a valid path",
    async (next) => {
      const res = await call("/ui/login", {
        ...form({ token: TOKEN, next }),
        headers: { ...form({}).headers, "cf-connecting-ip": "198.51.100.77" },
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("set-cookie")).toMatch(/sluice_session=/);
      expect(res.headers.get("location")).toMatch(/^\/ui\//);
      if (next.includes("\u0000")) expect(res.headers.get("location")).toBe("/ui/");
    },
  );

  it("a status change with back=/ui/%00 is made and redirects to /ui/", async () => {
    const cookie = await login();
    const page = await call(`/ui/projects/${project.id}/groups/${groupId}`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(csrf).toBeTruthy();
    const res = await call(
      `/ui/projects/${project.id}/groups/${groupId}/status`,
      form({ csrf: csrf!, status: "resolved", back: "/ui/\u0000" }, cookie),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/ui/");
    const group = await call(`/api/v1/projects/${project.id}/groups/${groupId}`, { headers: ADMIN });
    expect(((await group.json()) as { status: string }).status).toBe("resolved");
  });
});
