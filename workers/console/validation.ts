// Client mistakes become 400s/415s that say what is wrong: zod validation failures name the
// offending field, and the errors Hono's body parsing throws (malformed JSON, a wrong content type)
// are answered as what they are instead of falling through to the 500 handler.
import type { Hook } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ClientError } from "../../shared/http/errors";

// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input type
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return c.json({ error: `${where}${issue?.message ?? "invalid request"}` }, 400);
  }
};

/** The status and message of an error the client caused, or null for anything else (a 500). */
export function clientFault(err: unknown): { status: ContentfulStatusCode; message: string } | null {
  if (err instanceof ClientError) return { status: err.status, message: err.message };
  if (!(err instanceof HTTPException) || err.status >= 500) return null;
  if (err.status === 415) return { status: 415, message: "unsupported content type: send application/json" };
  if (/malformed json/i.test(err.message)) return { status: 400, message: "malformed JSON in request body" };
  return { status: err.status as ContentfulStatusCode, message: err.message || "bad request" };
}
