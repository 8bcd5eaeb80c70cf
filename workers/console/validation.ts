// Turns zod validation failures into a 400 whose message names the offending field.
import type { Hook } from "@hono/zod-openapi";

// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input type
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return c.json({ error: `${where}${issue?.message ?? "invalid request"}` }, 400);
  }
};
