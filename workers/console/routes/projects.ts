// Projects and their settings: create (with ingest key and DSN), list, read, rotate the key,
// read and patch settings (validated; a bad value gets a 400 naming the field), and move a project's
// metadata to another shard (../move-project.ts).

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { placeNewProject } from "../../../shared/db/shards";
import { type ProjectSettings, settingsSchema } from "../../../shared/settings";
import { moveProject } from "../move-project";
import {
  createProject,
  getProject,
  listProjects,
  projectView,
  publicBase,
  rotateKey,
  saveSettings,
  settingsOf,
} from "../projects-store";
import {
  CreateProjectSchema,
  ErrorSchema,
  errorResponses,
  json,
  ProjectIdParam,
  ProjectSchema,
  SettingsPatchSchema,
  SettingsSchema,
} from "../schemas";
import { validationHook } from "../validation";

export const projectRoutes = new OpenAPIHono<{ Bindings: ConsoleEnv }>({ defaultHook: validationHook });

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects",
    request: { body: { content: { "application/json": { schema: CreateProjectSchema } }, required: true } },
    responses: { 201: json(ProjectSchema, "The new project with its ingest key and DSN"), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const row = await createProject(c.env.DB, name, await placeNewProject(c.env));
    return c.json(projectView(row, publicBase(c.env, c.req.url)), 201);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects",
    responses: {
      200: json(z.object({ projects: z.array(ProjectSchema) }), "All projects"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const base = publicBase(c.env, c.req.url);
    const rows = await listProjects(c.env.DB);
    return c.json({ projects: rows.map((r) => projectView(r, base)) }, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}",
    request: { params: ProjectIdParam },
    responses: { 200: json(ProjectSchema, "One project"), ...errorResponses },
  }),
  async (c) => {
    const row = await getProject(c.env.DB, c.req.valid("param").id);
    if (!row) return c.json({ error: "project not found" }, 404);
    return c.json(projectView(row, publicBase(c.env, c.req.url)), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects/{id}/keys/rotate",
    request: { params: ProjectIdParam },
    responses: { 200: json(ProjectSchema, "The project with its new ingest key"), ...errorResponses },
  }),
  async (c) => {
    const row = await rotateKey(c.env.DB, c.req.valid("param").id);
    if (!row) return c.json({ error: "project not found" }, 404);
    return c.json(projectView(row, publicBase(c.env, c.req.url)), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api/v1/projects/{id}/settings",
    request: { params: ProjectIdParam },
    responses: { 200: json(SettingsSchema, "Current settings"), ...errorResponses },
  }),
  async (c) => {
    const row = await getProject(c.env.DB, c.req.valid("param").id);
    if (!row) return c.json({ error: "project not found" }, 404);
    return c.json(settingsOf(row), 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/api/v1/projects/{id}/settings",
    request: {
      params: ProjectIdParam,
      body: { content: { "application/json": { schema: SettingsPatchSchema } }, required: true },
    },
    responses: {
      200: json(SettingsSchema, "Settings after the change (the edge applies them within its cache TTL)"),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const row = await getProject(c.env.DB, id);
    if (!row) return c.json({ error: "project not found" }, 404);
    const current = settingsOf(row);
    const merged = {
      ...current,
      ...patch,
      sampleRates: { ...current.sampleRates, ...patch.sampleRates },
      filters: { ...current.filters, ...patch.filters },
      scrubbing: { ...current.scrubbing, ...patch.scrubbing },
    };
    const parsed = settingsSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return c.json({ error: `${issue.path.join(".")}: ${issue.message}` }, 400);
    }
    const next: ProjectSettings = parsed.data;
    await saveSettings(c.env.DB, id, next);
    return c.json(next, 200);
  },
);

projectRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api/v1/projects/{id}/shard",
    request: {
      params: ProjectIdParam,
      body: {
        content: { "application/json": { schema: z.object({ shard: z.number().int().min(0) }).strict() } },
        required: true,
      },
    },
    responses: {
      200: json(
        z.object({
          from: z.number(),
          to: z.number(),
          rowsMoved: z.number(),
          done: z.boolean(),
          d1Calls: z.number(),
        }),
        "With `done`, the project now lives on shard `to`, its rows folded into it and deleted from the others. Without, this request stopped at its share of D1 calls (what it did is counted): send it again to go on",
      ),
      ...errorResponses,
      409: json(ErrorSchema, "Another move of this project is running"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await moveProject(c.env, Number(id), c.req.valid("json").shard), 200);
  },
);

export { ErrorSchema };
