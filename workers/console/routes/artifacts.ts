// A project's source-map artifacts (sentry-cli bundles and Raygun uploads): list them with their
// files, debug ids and releases, and delete them. Retention deletes them too (processor cron).

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { deleteBundle, listBundles, listFiles } from "../../../shared/sourcemaps/store";
import { knownProjectDb } from "../projects-store";
import { errorResponses, json, ProjectIdParam } from "../schemas";
import { validationHook } from "../validation";

export const artifactRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

const ArtifactFileSchema = z.object({
  url: z.string().openapi({ description: "`~/path` the file is matched by" }),
  kind: z.string().openapi({ description: "minified_source | source_map" }),
  debugId: z.string().nullable(),
  mapUrl: z.string().nullable(),
  size: z.number(),
});

export const ArtifactBundleSchema = z
  .object({
    id: z.string().openapi({ description: "SHA-1 of the bundle" }),
    source: z.string().openapi({ description: "sentry-cli | raygun" }),
    release: z.string().openapi({ description: '"" when uploaded without a release' }),
    dist: z.string(),
    files: z.array(ArtifactFileSchema),
    bytes: z.number().openapi({ description: "Bytes of source maps stored" }),
    createdAt: z.string(),
  })
  .openapi("ArtifactBundle");

artifactRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/artifacts",
    request: {
      params: ProjectIdParam,
      query: z.object({
        before: z.coerce
          .number()
          .int()
          .positive()
          .optional()
          .openapi({ description: "createdAt (ms) cursor" }),
      }),
    },
    responses: {
      200: json(
        z.object({ bundles: z.array(ArtifactBundleSchema), next: z.number().nullable() }),
        "Newest first",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { before } = c.req.valid("query");
    await knownProjectDb(c.env, id);
    const rows = await listBundles(c.env.DB, Number(id), { before, limit: 50 });
    const bundles = await Promise.all(
      rows.map(async (b) => ({
        id: b.id,
        source: b.source,
        release: b.release,
        dist: b.dist,
        bytes: b.bytes,
        createdAt: new Date(b.createdAt).toISOString(),
        files: (await listFiles(c.env.DB, Number(id), b.id)).map((f) => ({
          url: f.url,
          kind: f.kind,
          debugId: f.debugId,
          mapUrl: f.mapUrl,
          size: f.size,
        })),
      })),
    );
    return c.json({ bundles, next: rows.length === 50 ? rows[rows.length - 1]!.createdAt : null }, 200);
  },
);

artifactRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/api/v1/projects/{id}/artifacts/{bundleId}",
    request: {
      params: ProjectIdParam.extend({
        bundleId: z.string().regex(/^[0-9a-f]{40}$/, "bundle id must be 40 hex characters"),
      }),
    },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  async (c) => {
    const { id, bundleId } = c.req.valid("param");
    if (!(await deleteBundle(c.env, Number(id), bundleId)))
      return c.json({ error: "no such artifact bundle" }, 404);
    return c.body(null, 204);
  },
);
