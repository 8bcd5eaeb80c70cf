// The console's route table: the management/read API under /api/v1 (admin token required) and
// its OpenAPI document. Every route is declared with its zod schemas, so the document cannot drift.
//
//   /api/v1/projects[/{id}[/settings|/keys/rotate]]      projects, keys, settings
//   /api/v1/projects/{id}/groups[/{groupId}[/events|/histogram|/feedback]]   error groups
//   /api/v1/projects/{id}/groups/merge                    fold groups into one
//   /api/v1/projects/{id}/events/{eventId}/feedback      user feedback on an event
//   /api/v1/projects/{id}/events/{eventId}[/raw]         event detail and raw payload
//   /api/v1/projects/{id}/stats                           outcomes over time
//   /api/v1/projects/{id}/search                          full-text search (Elasticsearch or D1 FTS5)
//   /api/v1/projects/{id}/alert-rules[/{ruleId}[/deliveries|/test]]   alert rules and deliveries
//   /api/v1/dead-letters[/replay]                         dead letters, and replaying them
//   /api/v1/openapi.json                                  this API, described
//   /api/v1/projects/{id}/artifacts[/{bundleId}]          source-map artifacts
//   /api/0/...                                            sentry-cli's source-map upload (routes/sentry-api.ts)
//   /upload/jssymbols/{app}, /v3/applications/{app}/source-maps   Raygun's source-map upload

import { OpenAPIHono } from "@hono/zod-openapi";
import { isMoveFence } from "../../shared/db/shards";
import { requireAdmin } from "./auth";
import { alertRuleRoutes } from "./routes/alert-rules";
import { artifactRoutes } from "./routes/artifacts";
import { deadLetterRoutes } from "./routes/dead-letters";
import { eventRoutes } from "./routes/events";
import { feedbackRoutes } from "./routes/feedback";
import { groupMergeRoutes } from "./routes/group-merge";
import { groupRoutes } from "./routes/groups";
import { projectRoutes } from "./routes/projects";
import { raygunSourceMapRoutes } from "./routes/raygun-sourcemaps";
import { releaseRoutes } from "./routes/releases";
import { rumRoutes } from "./routes/rum";
import { searchRoutes } from "./routes/search";
import { sentryApiRoutes } from "./routes/sentry-api";
import { statsRoutes } from "./routes/stats";
import { uiRoutes } from "./ui/index";
import { clientFault } from "./validation";

const app = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ strict: false });

// Every API answer (JSON, the raw event download, sentry-cli's endpoints) is data, never a page:
// no MIME sniffing (a raw payload must not be run as HTML), no caching of what the admin token
// unlocked, and a sandbox should a browser render one anyway. The dashboard sets its own (ui/).
// First, so it also wraps the OpenAPI document.
app.use("/api/*", async function apiHeaders(c, next) {
  await next();
  c.header("x-content-type-options", "nosniff");
  c.header("cache-control", "no-store");
  c.header("content-security-policy", "sandbox");
});

app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer" });
app.doc31("/api/v1/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Sluice management and read API", version: "1.0.0" },
  security: [{ adminToken: [] }],
});

app.use("/api/v1/*", async (c, next) => {
  if (c.req.path === "/api/v1/openapi.json") return next();
  return requireAdmin()(c, next);
});

app.use("/api/0/*", requireAdmin());
app.route("/", sentryApiRoutes);
app.route("/", raygunSourceMapRoutes);
app.route("/", artifactRoutes);
app.route("/", projectRoutes);
app.route("/", groupMergeRoutes);
app.route("/", groupRoutes);
app.route("/", feedbackRoutes);
app.route("/", eventRoutes);
app.route("/", statsRoutes);
app.route("/", searchRoutes);
app.route("/", deadLetterRoutes);
app.route("/", rumRoutes);
app.route("/", releaseRoutes);
app.route("/", alertRuleRoutes);
app.route("/", uiRoutes);

app.get("/", (c) => c.redirect("/ui/"));

app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.onError((err, c) => {
  const fault = clientFault(err);
  if (fault) return c.json({ error: fault.message }, fault.status);
  if (isMoveFence(err))
    return c.json({ error: "the project is moving to another metadata shard; retry" }, 503, {
      "Retry-After": "1",
    });
  console.error(JSON.stringify({ msg: "console error", error: String((err as Error)?.stack ?? err) }));
  return c.json({ error: "internal error" }, 500);
});

export { app };
