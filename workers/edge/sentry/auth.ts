// Sentry authentication at the edge: the public key from any of the four carriers must belong to
// the project named in the path (Relay's check_envelope). Unknown keys, foreign projects and pages
// the project's allowed origins exclude: 403.

import { ClientError } from "../../../shared/http/errors";
import { decodeBasicKey, extractAuth, hasSentryScheme } from "../../../shared/sentry/auth";
import { checkOrigin } from "../origin-policy";
import { lookupProject, type ProjectRecord } from "../project-cache";

/**
 * Whether the request itself carries auth (query or header) that extractAuth reads, so it can be
 * checked before the body is read. Headers extractAuth ignores (a proxy's `Bearer` token, Basic
 * that is not a key) do not count: a tunnel's envelope `dsn` is then the key, as in Relay.
 */
export function hasRequestAuth(request: Request): boolean {
  const h = request.headers;
  const a = h.get("authorization");
  if (hasSentryScheme(h.get("x-sentry-auth")) || hasSentryScheme(a)) return true;
  if (a && /^basic /i.test(a) && decodeBasicKey(a.slice(6)) !== null) return true;
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
