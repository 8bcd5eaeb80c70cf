// Raygun's source-map upload, for raygun4js users who script it against Raygun's API today:
//
//   POST   /upload/jssymbols/{app}?authToken=<token>   Raygun's upload form: fields `url`, `file`
//   PUT    /v3/applications/{app}/source-maps          Raygun API v3: fields `uri`, `file` (Bearer)
//   GET    /v3/applications/{app}/source-maps          the uploaded maps
//   DELETE /v3/applications/{app}/source-maps/{id}     one of them
//
// `{app}` is the project's id or name; the token is the console's admin token. One upload is the
// map of one minified file URL; a new upload for the same URL replaces the old one.

import { type Context, Hono } from "hono";
import { ClientError } from "../../../shared/http/errors";
import { sourceMapProblem } from "../../../shared/sourcemaps/bundle";
import { sha1Hex } from "../../../shared/sourcemaps/chunks";
import { MAX_MAP_SIZE } from "../../../shared/sourcemaps/limits";
import { deleteBundle, listBundles, listFiles, saveBundle } from "../../../shared/sourcemaps/store";
import { tildeUrl } from "../../../shared/sourcemaps/urls";
import { findProjectByRef } from "../artifact-projects";
import { configuredToken, safeEqual } from "../auth";

export const raygunSourceMapRoutes = new Hono<{ Bindings: ConsoleEnv }>();

type C = Context<{ Bindings: ConsoleEnv }>;

/** The admin token as `Authorization: Bearer`, or Raygun's `authToken` query parameter. */
function authorized(c: C): boolean {
  const token = configuredToken(c.env);
  if (!token) return false;
  const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  const given = bearer ?? c.req.query("authToken") ?? "";
  return given !== "" && safeEqual(given, token);
}

const fail = (c: C, status: 400 | 401 | 404 | 411 | 413, message: string) =>
  c.json({ error: message }, status);

async function upload(c: C) {
  if (!authorized(c)) return fail(c, 401, "missing or wrong token: send Authorization: Bearer <admin token>");
  const project = await findProjectByRef(c.env.DB, c.req.param("app") ?? "");
  if (!project) return fail(c, 404, "no such application (give the project's id or name)");
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (!Number.isFinite(declared)) return fail(c, 411, "an upload needs a Content-Length header");
  // Refused before the body is read: the form, a copy of the map and its write to R2 must fit the
  // isolate (limits.ts), and a map is refused by its size, not by what reading it costs.
  if (declared > MAX_MAP_SIZE + 64 * 1024)
    return fail(
      c,
      413,
      `upload of ${declared} bytes exceeds the limit of ${MAX_MAP_SIZE} bytes per source map`,
    );
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    return fail(c, 400, "send multipart/form-data with the file's URL (`url` or `uri`) and the map (`file`)");
  }
  const rawUrl = form.get("url") ?? form.get("uri");
  const url = typeof rawUrl === "string" ? tildeUrl(rawUrl) : null;
  if (!url) return fail(c, 400, "`url` (or `uri`): the minified file's URL is required");
  const file = form.get("file") as unknown as Blob | string | null;
  if (!file || typeof file === "string") return fail(c, 400, "`file`: the source map file is required");
  if (file.size > MAX_MAP_SIZE)
    return fail(c, 413, `the map is larger than the limit of ${MAX_MAP_SIZE} bytes per source map`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const problem = sourceMapProblem(bytes);
  if (problem) return fail(c, 400, `the uploaded file is ${problem}`);
  // Content-addressed: the same map for the same URL is the same bundle; older ones for the URL go.
  const bundleId = sha1Hex(new TextEncoder().encode(`${url}\n${sha1Hex(bytes)}`));
  const older = (await listBundles(c.env.DB, project.id, { source: "raygun", limit: 200 })).filter(
    (b) => b.id !== bundleId,
  );
  const row = await saveBundle(
    c.env,
    project.id,
    bundleId,
    {
      release: "",
      dist: "",
      files: [{ url, kind: "source_map", debugId: null, mapUrl: null, bytes, size: bytes.byteLength }],
    },
    "raygun",
  );
  for (const b of older) {
    const files = await listFiles(c.env.DB, project.id, b.id);
    if (files.some((f) => f.url === url)) await deleteBundle(c.env, project.id, b.id);
  }
  return c.json(
    { identifier: row.id, uri: url, fileSize: row.bytes, uploadedAt: new Date(row.createdAt).toISOString() },
    200,
  );
}

raygunSourceMapRoutes.post("/upload/jssymbols/:app", upload);
raygunSourceMapRoutes.put("/v3/applications/:app/source-maps", upload);
raygunSourceMapRoutes.post("/v3/applications/:app/source-maps", upload);

raygunSourceMapRoutes.get("/v3/applications/:app/source-maps", async (c) => {
  if (!authorized(c)) return fail(c, 401, "missing or wrong token: send Authorization: Bearer <admin token>");
  const project = await findProjectByRef(c.env.DB, c.req.param("app"));
  if (!project) return fail(c, 404, "no such application (give the project's id or name)");
  const bundles = await listBundles(c.env.DB, project.id, { source: "raygun", limit: 200 });
  const maps = await Promise.all(
    bundles.map(async (b) => {
      const [f] = await listFiles(c.env.DB, project.id, b.id);
      return {
        identifier: b.id,
        uri: f?.url ?? null,
        fileSize: b.bytes,
        uploadedAt: new Date(b.createdAt).toISOString(),
      };
    }),
  );
  return c.json(maps);
});

raygunSourceMapRoutes.delete("/v3/applications/:app/source-maps/:id", async (c) => {
  if (!authorized(c)) return fail(c, 401, "missing or wrong token: send Authorization: Bearer <admin token>");
  const project = await findProjectByRef(c.env.DB, c.req.param("app"));
  if (!project) return fail(c, 404, "no such application (give the project's id or name)");
  const id = c.req.param("id");
  if (!/^[0-9a-f]{40}$/.test(id))
    throw new ClientError(400, "source map identifier must be 40 hex characters", "invalid");
  if (!(await deleteBundle(c.env, project.id, id))) return fail(c, 404, "no such source map");
  return c.body(null, 204);
});
