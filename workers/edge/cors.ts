// CORS for the ingestion routes: the CORS answer is the same for every origin (a preflight carries
// no key, so it cannot know the project); each project's allowedOrigins is enforced once the key is
// known (./origin-policy). The SDKs' custom headers are allowed, and the rate-limit headers are
// exposed so browser SDKs can back off (Relay's lists).
//
// Preflights are answered by Hono's CORS middleware. Every other ingestion request only needs the
// two fixed headers, set as the context's prepared headers: Hono's middleware puts them on a
// placeholder Response and then copies them into the handler's, two Responses and a Headers copy per
// report that are a measurable share of the edge's cost.

import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

const ALLOW_ORIGIN = "*";
const EXPOSE_HEADERS = ["X-Sentry-Error", "X-Sentry-Rate-Limits", "Retry-After"];

const preflight = cors({
  origin: ALLOW_ORIGIN,
  allowMethods: ["POST", "OPTIONS"],
  allowHeaders: [
    "Content-Type",
    "X-ApiKey",
    "X-Remote-Address",
    "X-Sentry-Auth",
    "X-Requested-With",
    "X-Forwarded-For",
    "Origin",
    "Referer",
    "Accept",
    "Authentication",
    "Authorization",
    "Content-Encoding",
    "Transfer-Encoding",
  ],
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: 3600,
});

const exposeHeaders = EXPOSE_HEADERS.join(",");

/**
 * @example app.use("/entries", ingestCors)
 */
export const ingestCors: MiddlewareHandler = function ingestCors(c, next) {
  if (c.req.method === "OPTIONS") return preflight(c, next);
  // Prepared headers go on whatever response the route or the error handler builds, 4xx included
  // (a browser SDK must be able to read a 429 to back off).
  c.header("Access-Control-Allow-Origin", ALLOW_ORIGIN);
  c.header("Access-Control-Expose-Headers", exposeHeaders);
  return next();
};
