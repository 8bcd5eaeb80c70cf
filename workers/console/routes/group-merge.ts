// POST /api/v1/projects/{id}/groups/merge {"into", "groups"}: folds groups into one (merge-groups.ts)
// and answers with the target as it now stands. Repeating a merge is harmless (200, nothing new).

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { errorGroups } from "../../../shared/db/schema";
import { MAX_MERGE_SOURCES, mergeGroups } from "../merge-groups";
import { metaDb } from "../projects-store";
import { ErrorSchema, errorResponses, GroupSchema, json, ProjectIdParam } from "../schemas";
import { validationHook } from "../validation";
import { groupView } from "./groups";

export const groupMergeRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const GroupId = z.string().regex(/^[0-9a-f]{16}$/, "invalid group id");

export const MergeRequestSchema = z
  .object({
    into: GroupId.openapi({ description: "The group that remains" }),
    groups: z
      .array(GroupId)
      .min(1)
      .max(MAX_MERGE_SOURCES)
      .openapi({ description: `Groups folded into it (at most ${MAX_MERGE_SOURCES})` }),
  })
  .strict()
  .openapi("GroupMerge");

groupMergeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects/{id}/groups/merge",
    request: {
      params: ProjectIdParam,
      body: { content: { "application/json": { schema: MergeRequestSchema } }, required: true },
    },
    responses: {
      200: json(
        z.object({ group: GroupSchema, merged: z.array(z.string()) }),
        "The target group after the merge, and the groups this request merged (none when repeated)",
      ),
      ...errorResponses,
      409: json(ErrorSchema, "A group was already merged elsewhere, or the target was merged itself"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { into, groups } = c.req.valid("json");
    const pid = Number(id);
    // Groups, their hours, redirects, facets and feedback live on the project's metadata shard.
    const db = await metaDb(c.env, id);
    const result = await mergeGroups(db, pid, into, groups);
    if (!result.ok) return c.json({ error: result.error }, result.status);
    const [g] = await drizzle(db)
      .select()
      .from(errorGroups)
      .where(and(eq(errorGroups.projectId, pid), eq(errorGroups.id, into)))
      .limit(1);
    if (!g) return c.json({ error: "group not found" }, 404);
    return c.json({ group: groupView(g), merged: result.merged }, 200);
  },
);
