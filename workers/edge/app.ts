// The edge's route table. Ingestion routes are served here; every other path (the API, the
// dashboard) is forwarded to the console worker through the CONSOLE service binding.
//
//   GET  /healthz                       liveness
//   POST /entries, /entries/bulk        Raygun crash reports          → 202
//   POST /events                        Raygun RUM                    → 202
//   POST /api/:projectId/envelope/      Sentry envelopes              → 200 {"id"}
//   POST /api/:projectId/store/         Sentry legacy JSON events     → 200 {"id"}
//   OPTIONS on all of them              CORS preflight

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { ClientError } from "../../shared/http/errors";
import { invalidOutcome, tooLargeOutcome } from "../../shared/policy/outcomes";
import { ingestCors } from "./cors";
import { enqueue, requestFinished, requestStarted } from "./enqueue";
import { OriginRejected } from "./origin-policy";
import { raygunRoutes } from "./raygun/routes";
import { sentryRoutes } from "./sentry/routes";
import type { EdgeApp } from "./types";

const app = new Hono<EdgeApp>({ strict: false });

app.get("/healthz", (c) => c.json({ ok: true }));

/**
 * Sentry's ingestion paths, /api/<project id>/...: never project 0 (in any spelling). Sentry's project
 * ids start at 1, and /api/0/ is its management API (sentry-cli's release and source-map uploads,
 * served by the console), which must not get the ingestion CORS answer (any origin, Authorization
 * allowed) nor count as ingestion in flight.
 */
const SENTRY_PATH = /^\/api\/(?!0+\/)\d+\//;
const INGEST_PATH = new RegExp(`^\\/(entries|events)(\\/|$)|${SENTRY_PATH.source}`);

/**
 * One middleware for every ingestion path: CORS, and counting the requests in flight so the queue
 * module knows when group commit can help. (Registered once: Hono would run a middleware once per
 * matching pattern, and "/entries" matches both "/entries" and "/entries/*".)
 */
const ingestion: MiddlewareHandler<EdgeApp> = async function ingestionMiddleware(c, next) {
  if (!INGEST_PATH.test(c.req.path)) return next();
  requestStarted();
  try {
    // The CORS middleware answers preflights by returning a Response: pass it on.
    return await ingestCors(c, next);
  } finally {
    requestFinished();
  }
};
app.use("*", ingestion);
app.route("/", raygunRoutes);
app.route("/", sentryRoutes);

app.onError((err, c) => {
  const sentry = SENTRY_PATH.test(new URL(c.req.url).pathname);
  if (err instanceof ClientError) {
    recordRejection(c, err);
    if (sentry) return c.json({ detail: err.message, causes: err.causes }, err.status);
    return c.text(err.message, err.status);
  }
  // Only infrastructure failures (queue or storage unavailable) get here: transient, so 503.
  console.error(JSON.stringify({ msg: "edge error", error: String((err as Error)?.stack ?? err) }));
  return c.text("temporarily unavailable", 503, { "Retry-After": "60" });
});

/**
 * A request rejected after authentication still has an outcome: invalid (with the reason; a refused
 * origin is invalid:cors) or too_large, counted for its project (sent to the telemetry queue off the
 * response path).
 */
function recordRejection(c: Context<EdgeApp>, err: ClientError): void {
  const origin = err instanceof OriginRejected;
  const project = origin ? err.project : c.get("project");
  if (
    !project ||
    (!origin &&
      err.reason !== "invalid" &&
      err.reason !== "too_large" &&
      err.reason !== "unsupported_encoding")
  )
    return;
  const category = c.get("category") ?? "error";
  const record = origin
    ? invalidOutcome(project.id, category, "cors")
    : err.reason === "too_large"
      ? tooLargeOutcome(project.id, category)
      : invalidOutcome(project.id, category, err.message.replace(/\d+/g, "n").slice(0, 48));
  c.executionCtx.waitUntil(
    enqueue(c.env as never, "telemetry", [], [record]).catch((e) =>
      console.warn(JSON.stringify({ msg: "could not record outcome", error: String(e) })),
    ),
  );
}

// Everything that is not ingestion belongs to the console (API and dashboard).
app.all("*", (c) => c.env.CONSOLE.fetch(c.req.raw));

export { app };
