// The subset of Sentry's management API that an unmodified `sentry-cli` calls to upload source
// maps (read from sentry-cli's source and checked against sentry-cli 3.8):
//
//   GET  /api/0/                                              auth check (`sentry-cli info`)
//   GET  /api/0/organizations/{org}/chunk-upload/             chunk options (size, gzip, sha1)
//   POST /api/0/organizations/{org}/chunk-upload/             chunks, multipart, named by SHA-1
//   POST /api/0/organizations/{org}/artifactbundle/assemble/  state: not_found (with missing chunks),
//                                                             ok, or error with a detail
//   POST /api/0/organizations/{org}/releases/                 `sentry-cli releases new` (accepted)
//   PUT  /api/0/organizations/{org}/releases/{version}/       `releases finalize` (accepted)
//
// `{org}` may be any slug; a project is named by id or name. Assembly happens inline, so the first
// poll already answers "ok". Anything else under /api/0 is a 404 with a `detail`, as Sentry answers.
// Chunks are shared by every project and upload, so an assemble never deletes them (the sweep
// does); a chunk gone before the assemble reads it is answered not_found with the chunk, which
// sentry-cli uploads again when the upload is rerun.

import { Hono } from "hono";
import { z } from "zod";
import { ClientError } from "../../../shared/http/errors";
import {
  type ArtifactBundle,
  BundleError,
  parseArtifactBundle,
  sourceMapProblem,
} from "../../../shared/sourcemaps/bundle";
import { isSha1, joinChunks, missingChunks, storeChunks } from "../../../shared/sourcemaps/chunks";
import {
  CHUNK_SIZE,
  CHUNKS_PER_REQUEST,
  MAX_ASSEMBLE_CHUNKS,
  MAX_BUNDLE_SIZE,
  MAX_REQUEST_SIZE,
} from "../../../shared/sourcemaps/limits";
import { findBundle, saveBundle } from "../../../shared/sourcemaps/store";
import { findProjectByRef } from "../artifact-projects";

// Not strict: sentry-cli's paths end in "/", and the console app matches them either way.
export const sentryApiRoutes = new Hono<{ Bindings: ConsoleEnv }>({ strict: false });

const detail = (message: string) => ({ detail: message });

sentryApiRoutes.get("/api/0", (c) =>
  c.json({ version: "0", auth: { scopes: ["project:releases", "org:read", "project:read"] }, user: null }),
);

sentryApiRoutes.get("/api/0/organizations/:org/chunk-upload", (c) =>
  c.json({
    url: `/api/0/organizations/${encodeURIComponent(c.req.param("org"))}/chunk-upload/`,
    chunkSize: CHUNK_SIZE,
    chunksPerRequest: CHUNKS_PER_REQUEST,
    maxFileSize: MAX_BUNDLE_SIZE,
    maxRequestSize: MAX_REQUEST_SIZE,
    concurrency: 1,
    hashAlgorithm: "sha1",
    compression: ["gzip"],
    accept: ["artifact_bundles", "artifact_bundles_v2"],
  }),
);

sentryApiRoutes.post("/api/0/organizations/:org/chunk-upload", async (c) => {
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (!Number.isFinite(declared)) return c.json(detail("a chunk upload needs a Content-Length header"), 411);
  if (declared > MAX_REQUEST_SIZE)
    return c.json(
      detail(`chunk upload of ${declared} bytes exceeds the limit of ${MAX_REQUEST_SIZE} bytes`),
      413,
    );
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch (err) {
    return c.json(detail(`chunk upload must be multipart/form-data: ${(err as Error).message}`), 400);
  }
  try {
    await storeChunks(c.env.BLOBS, form);
  } catch (err) {
    if (err instanceof ClientError) return c.json(detail(err.message), err.status);
    throw err;
  }
  return c.body(null, 200);
});

const AssembleBody = z.object({
  checksum: z.string().refine(isSha1, "checksum must be a SHA-1 (40 hex characters)"),
  chunks: z
    .array(z.string().refine(isSha1, "each chunk must be a SHA-1 (40 hex characters)"))
    .min(1, "chunks must not be empty")
    .max(MAX_ASSEMBLE_CHUNKS, `at most ${MAX_ASSEMBLE_CHUNKS} chunks (${MAX_BUNDLE_SIZE} bytes)`),
  projects: z.array(z.string().max(200)).min(1, "name at least one project").max(20),
  version: z.string().max(200).nullish(),
  dist: z.string().max(64).nullish(),
});

sentryApiRoutes.post("/api/0/organizations/:org/artifactbundle/assemble", async (c) => {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return c.json(detail("malformed JSON in request body"), 400);
  }
  const parsed = AssembleBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return c.json(detail(`${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid request"}`), 400);
  }
  const body = parsed.data;
  const projectIds: number[] = [];
  for (const ref of body.projects) {
    const project = await findProjectByRef(c.env.DB, ref);
    if (!project)
      return c.json(detail(`project "${ref.slice(0, 100)}" does not exist (give its id or name)`), 404);
    projectIds.push(project.id);
  }
  const existing = await Promise.all(projectIds.map((id) => findBundle(c.env.DB, id, body.checksum)));
  if (existing.every((b) => b !== null)) return c.json({ state: "ok", missingChunks: [] });

  const missing = await missingChunks(c.env.BLOBS, body.chunks);
  if (missing.length > 0) return c.json({ state: "not_found", missingChunks: missing });

  const bundle = await readBundle(c.env.BLOBS, body);
  if ("missing" in bundle)
    return c.json({
      state: "not_found",
      missingChunks: bundle.missing,
      detail: "chunks expired before the bundle was assembled: run the upload again",
    });
  if ("error" in bundle) return c.json({ state: "error", missingChunks: [], detail: bundle.error });
  // The bundle row is written last, so a save that fails part-way is redone by the next assemble.
  for (const [i, id] of projectIds.entries())
    if (!existing[i]) await saveBundle(c.env, id, body.checksum, bundle.bundle, "sentry-cli");
  return c.json({ state: "ok", missingChunks: [] });
});

/**
 * Joins, parses and checks the bundle. Its own function so the zip can be collected once its maps
 * are out: the save then holds only the maps (see limits.ts for the memory arithmetic).
 */
async function readBundle(
  blobs: R2Bucket,
  body: z.infer<typeof AssembleBody>,
): Promise<{ bundle: ArtifactBundle } | { missing: string[] } | { error: string }> {
  const joined = await joinChunks(blobs, body.checksum, body.chunks, MAX_BUNDLE_SIZE);
  if (!("bytes" in joined)) return joined;
  let bundle: ArtifactBundle;
  try {
    bundle = parseArtifactBundle(joined.bytes, { release: body.version ?? null, dist: body.dist ?? null });
  } catch (err) {
    if (err instanceof BundleError) return { error: err.message };
    throw err;
  }
  for (const f of bundle.files) {
    const problem = f.bytes ? sourceMapProblem(f.bytes) : null;
    if (problem) return { error: `source map ${f.url} is ${problem}` };
  }
  return { bundle };
}

/** Releases are implicit in Sluice (an event's release is a string): creating one is accepted. */
const release = (version: string) => ({
  version,
  shortVersion: version,
  ref: null,
  url: null,
  dateCreated: new Date().toISOString(),
  dateReleased: null,
  lastEvent: null,
  newGroups: 0,
  projects: [],
});

sentryApiRoutes.post("/api/0/organizations/:org/releases", async (c) => {
  const body = (await c.req.json().catch(() => null)) as { version?: unknown } | null;
  if (!body || typeof body.version !== "string" || body.version === "" || body.version.length > 200)
    return c.json(detail("version: a release version (1–200 characters) is required"), 400);
  return c.json(release(body.version), 201);
});

sentryApiRoutes.put("/api/0/organizations/:org/releases/:version", (c) =>
  c.json(release(c.req.param("version"))),
);

sentryApiRoutes.all("/api/0/*", (c) =>
  c.json(
    detail(
      `Sluice implements only the source-map upload subset of Sentry's API, not ${c.req.method} ${c.req.path}`,
    ),
    404,
  ),
);
