// Sentry authentication at the edge: the public key from any of the four carriers must belong to
// the project named in the path (Relay's check_envelope). Unknown keys, foreign projects and pages
// the project's allowed origins exclude: 403.

import { ClientError } from "../../../shared/http/errors";
import { extractAuth } from "../../../shared/sentry/auth";
import { checkOrigin } from "../origin-policy";
import { lookupProject, type ProjectRecord } from "../project-cache";

/** Whether the request itself carries auth (query or header), so it can be checked before the body is read. */
export function hasRequestAuth(request: Request): boolean {
  const h = request.headers;
  if (h.get("x-sentry-auth")) return true;
  const a = h.get("authorization");
  if (a && /^(sentry|basic) /i.test(a)) return true;
  return new URL(request.url).search.includes("sentry_");
}

export async function authenticateSentry(
  request: Request,
  env: EdgeEnv,
  routeProjectId: string,
  envelopeDsn: unknown,
): Promise<ProjectRecord> {
  const url = new URL(request.url);
  const auth = extractAuth({ query: url.search, headers: request.headers, envelopeDsn, routeProjectId });
  const project = await lookupProject(env.DB, auth.publicKey, Number(env.PROJECT_CACHE_TTL_SECONDS) || 30);
  if (!project)
    throw new ClientError(
      403,
      "event submission rejected with_reason: ProjectId (unknown public key)",
      "forbidden",
    );
  if (project.id !== routeProjectId) {
    throw new ClientError(
      403,
      "event submission rejected with_reason: ProjectId (key belongs to another project)",
      "forbidden",
    );
  }
  checkOrigin(request, project);
  return project;
}
