// Raygun authentication: the X-ApiKey header or the apikey query parameter (any case: raygun4js
// sends ?apikey=, third-party code ?apiKey=). Unknown or missing keys get Raygun's 403, and so does
// a page the project's allowed origins exclude.

import type { Context } from "hono";
import { ClientError } from "../../../shared/http/errors";
import { checkOrigin } from "../origin-policy";
import { lookupProject, type ProjectRecord } from "../project-cache";
import type { EdgeApp } from "../types";

function apiKeyFrom(request: Request): string | null {
  const header = request.headers.get("x-apikey");
  if (header) return header;
  // The URL is parsed only when the header is absent (raygun4js): most reports carry the header.
  for (const [name, value] of new URL(request.url).searchParams) {
    if (name.toLowerCase() === "apikey") return value;
  }
  return null;
}

export async function authenticateRaygun(c: Context<EdgeApp>): Promise<ProjectRecord> {
  const key = apiKeyFrom(c.req.raw);
  if (!key) throw new ClientError(403, "missing API key: send X-ApiKey or ?apikey=", "forbidden");
  const project = await lookupProject(c.env.DB, key, Number(c.env.PROJECT_CACHE_TTL_SECONDS) || 30);
  if (!project) throw new ClientError(403, "invalid API key", "forbidden");
  c.set("project", project);
  c.set("origin", checkOrigin(c.req.raw, project));
  return project;
}
