// CORS for the ingestion routes: the CORS answer is the same for every origin (a preflight carries
// no key, so it cannot know the project); each project's allowedOrigins is enforced once the key is
// known (./origin-policy). The SDKs' custom headers are allowed, and the rate-limit headers are
// exposed so browser SDKs can back off (Relay's lists).

import { cors } from "hono/cors";

export const ingestCors = cors({
  origin: "*",
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
  exposeHeaders: ["X-Sentry-Error", "X-Sentry-Rate-Limits", "Retry-After"],
  maxAge: 3600,
});
