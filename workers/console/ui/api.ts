// How dashboard pages read data: the same API route handlers the /api/v1 clients use, called
// in-process (no network, no token: the page already checked the session), so the pages show
// exactly what the API returns. Search calls the shared search backend directly.

import { Hono } from "hono";
import { alertRuleRoutes } from "../routes/alert-rules";
import { artifactRoutes } from "../routes/artifacts";
import { eventRoutes } from "../routes/events";
import { feedbackRoutes } from "../routes/feedback";
import { groupMergeRoutes } from "../routes/group-merge";
import { groupRoutes } from "../routes/groups";
import { projectRoutes } from "../routes/projects";
import { releaseRoutes } from "../routes/releases";
import { rumRoutes } from "../routes/rum";
import { statsRoutes } from "../routes/stats";
import { clientFault } from "../validation";

const internal = new Hono<{ Bindings: ConsoleEnv }>()
  .route("/", projectRoutes)
  .route("/", groupMergeRoutes)
  .route("/", groupRoutes)
  .route("/", feedbackRoutes)
  .route("/", eventRoutes)
  .route("/", statsRoutes)
  .route("/", rumRoutes)
  .route("/", releaseRoutes)
  .route("/", alertRuleRoutes)
  .route("/", artifactRoutes);
internal.onError((err, c) => {
  const fault = clientFault(err);
  if (fault) return c.json({ error: fault.message }, fault.status);
  throw err;
});

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls an /api/v1 route in-process and returns its JSON body; a non-2xx answer throws ApiError.
 *
 * @example const { groups } = await callApi<{ groups: Group[] }>(c, `/api/v1/projects/${id}/groups`);
 */
export async function callApi<T>(
  c: { req: { url: string }; env: ConsoleEnv },
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  // The absolute URL keeps DSNs and endpoints built from the request origin right.
  const url = new URL(path, c.req.url).toString();
  const res = await internal.request(
    url,
    {
      method: init.method ?? "GET",
      headers: init.body === undefined ? {} : { "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    },
    c.env,
  );
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const msg = (body as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return body as T;
}
