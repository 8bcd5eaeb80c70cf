// The dashboard's route table (/ui). Pages render on the server with hono/jsx and read data through
// the API's own route handlers (api.ts). Everything but the login page needs the session cookie;
// every POST also needs the same origin and the session's CSRF token (session.ts).
//
//   GET  /ui/login · POST /ui/login · POST /ui/logout       session
//   GET  /ui/ · POST /ui/projects                            projects, keys, SDK snippets; create
//   GET  /ui/projects/:id                                    issues (error groups) with sparklines
//   POST /ui/projects/:id/groups/merge                       merge the selected issues
//   GET  /ui/projects/:id/groups/:groupId · POST …/status    one issue; resolve / ignore / reopen
//   GET  /ui/projects/:id/events/:eventId                    one event with its stack trace
//   GET  /ui/projects/:id/{search,outcomes,rum,releases,setup} · POST …/keys/rotate
//   GET  /ui/projects/:id/alerts[/:ruleId] · POST …/alerts[/:ruleId/{delete,test}]   alert rules

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ClientError } from "../../../shared/http/errors";
import { ApiError } from "./api";
import { Layout } from "./components/layout";
import {
  alertsPage,
  createRuleSubmit,
  deleteRuleSubmit,
  ruleDeliveriesPage,
  testRuleSubmit,
} from "./pages/alerts";
import { artifactDeleteSubmit, artifactsPage } from "./pages/artifacts";
import { eventPage } from "./pages/event";
import { groupPage } from "./pages/group";
import { groupMergeSubmit } from "./pages/group-merge";
import { groupStatusSubmit, groupsPage } from "./pages/groups";
import { loginPage, loginSubmit, logout } from "./pages/login";
import { outcomesPage } from "./pages/outcomes";
import { createProjectSubmit, projectsPage, rotateKeySubmit, setupPage } from "./pages/projects";
import { releasesPage } from "./pages/releases";
import { rumPage } from "./pages/rum";
import { searchPage } from "./pages/search";
import { requireSession, type UiEnv } from "./session";
import { SCRIPT } from "./styles";

export const uiRoutes = new Hono<UiEnv>();

// Defence in depth behind escaping: no inline script, no foreign origins, no framing.
uiRoutes.use("/ui/*", async function uiHeaders(c, next) {
  await next();
  c.header(
    "content-security-policy",
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; " +
      "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "same-origin");
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
});

uiRoutes.get("/ui/app.js", (c) =>
  c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "max-age=300" }),
);
uiRoutes.get("/ui/login", loginPage);
// The login form is read before any session exists: keep what an anonymous client can send small.
uiRoutes.post(
  "/ui/login",
  bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text("login form too large", 413) }),
  loginSubmit,
);

uiRoutes.use("/ui/*", requireSession());
uiRoutes.post("/ui/logout", logout);
// The console app is non-strict ("/ui/" arrives as "/ui"); both are registered for either mode.
uiRoutes.get("/ui", projectsPage);
uiRoutes.get("/ui/", projectsPage);
uiRoutes.post("/ui/projects", createProjectSubmit);

const P = "/ui/projects/:id{[0-9]+}";
const G = `${P}/groups/:groupId{[0-9a-f]{16}}`;
uiRoutes.get(P, groupsPage);
uiRoutes.get(`${P}/setup`, setupPage);
uiRoutes.post(`${P}/keys/rotate`, rotateKeySubmit);
uiRoutes.get(`${P}/search`, searchPage);
uiRoutes.get(`${P}/outcomes`, outcomesPage);
uiRoutes.get(`${P}/rum`, rumPage);
uiRoutes.get(`${P}/releases`, releasesPage);
uiRoutes.post(`${P}/groups/merge`, groupMergeSubmit);
uiRoutes.get(`${P}/alerts`, alertsPage);
uiRoutes.post(`${P}/alerts`, createRuleSubmit);
uiRoutes.get(`${P}/alerts/:ruleId{[0-9a-f]{16}}`, ruleDeliveriesPage);
uiRoutes.post(`${P}/alerts/:ruleId{[0-9a-f]{16}}/delete`, deleteRuleSubmit);
uiRoutes.post(`${P}/alerts/:ruleId{[0-9a-f]{16}}/test`, testRuleSubmit);
uiRoutes.get(`${P}/artifacts`, artifactsPage);
uiRoutes.post(`${P}/artifacts/:bundleId{[0-9a-f]{40}}/delete`, artifactDeleteSubmit);
uiRoutes.get(G, groupPage);
uiRoutes.post(`${G}/status`, groupStatusSubmit);
uiRoutes.get(`${P}/events/:eventId{[0-9a-f]{32}}`, eventPage);

// Any other /ui URL: the dashboard's own 404 page (behind requireSession, so a visitor without a
// session is sent to the login page first). A catch-all route rather than uiRoutes.notFound, which
// Hono ignores on a sub-app mounted with app.route: the console app's JSON 404 would answer.
uiRoutes.all("/ui/*", (c) => errorPage(c, 404, "There is no such page."));

uiRoutes.onError((err, c) => {
  // ApiError: an API route the page called answered 4xx; ClientError: the page's own read said so
  // (metaDb's unknown project).
  if ((err instanceof ApiError && err.status < 500) || err instanceof ClientError)
    return errorPage(c, err.status, err.status === 404 ? `Not found: ${err.message}.` : err.message);
  if (err instanceof HTTPException && err.status < 500) return errorPage(c, err.status, err.message);
  console.error(JSON.stringify({ msg: "dashboard error", error: String((err as Error)?.stack ?? err) }));
  return errorPage(c, 500, "Something went wrong on our side; the console log has the details.");
});

function errorPage(
  c: Parameters<Parameters<typeof uiRoutes.onError>[0]>[1],
  status: number,
  message: string,
) {
  return c.html(
    <Layout title={`Error ${status}`} csrf={c.get("csrf")}>
      <div class="card">
        <h1>{status === 404 ? "Not found" : status === 400 ? "Bad request" : "Error"}</h1>
        <p class="error-message">{message}</p>
        <p>
          <a href="/ui/">← Projects</a>
        </p>
      </div>
    </Layout>,
    status as 400,
  );
}
