// The console API's request and response schemas: validation at the boundary and the OpenAPI
// document come from the same zod definitions.

import { z } from "@hono/zod-openapi";
import { settingsSchema } from "../../shared/settings";
import { TIME_FORMAT, toEpochMs } from "./time-range";

export const ErrorSchema = z.object({ error: z.string() }).openapi("Error");

export const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    key: z.string().openapi({ description: "Ingest key: Raygun X-ApiKey and Sentry DSN public key" }),
    dsn: z.string().openapi({ description: "Sentry DSN to give any Sentry SDK" }),
    raygun: z.object({ apiKey: z.string(), endpoint: z.string() }),
    shard: z
      .number()
      .openapi({ description: "The metadata shard (DB_SHARD_<n>) holding its groups and aggregates" }),
    createdAt: z.string(),
  })
  .openapi("Project");

export const CreateProjectSchema = z.object({ name: z.string().min(1).max(100) }).openapi("CreateProject");

/**
 * Project ids are positive integers; more than 15 digits cannot be one (nor a safe JS number).
 * Handed on in canonical form ("007" → "7"), as every store names the project, so no look-up by
 * id (search backend, segment records, D1) has to canonicalise it again.
 */
export const ProjectIdParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, "project id must be a positive integer")
    .transform((id) => String(Number(id))),
});
export const GroupParams = ProjectIdParam.extend({
  groupId: z.string().regex(/^[0-9a-f]{16}$/, "invalid group id"),
});
export const EventParams = ProjectIdParam.extend({
  eventId: z.string().regex(/^[0-9a-f]{32}$/, "invalid event id"),
});

export const GroupStatus = z.enum(["active", "resolved", "ignored"]);

export const GroupSchema = z
  .object({
    id: z.string(),
    type: z.string().nullable(),
    message: z.string(),
    culprit: z.string().nullable(),
    level: z.string(),
    platform: z.string().nullable(),
    status: GroupStatus,
    count: z.number(),
    firstSeen: z.string(),
    lastSeen: z.string(),
    lastEventId: z.string().nullable(),
    lastRelease: z.string().nullable(),
    regressedAt: z.string().nullable(),
    resolvedInRelease: z
      .string()
      .nullable()
      .openapi({ description: "Reopens only on an event of a later release" }),
    groupingVersion: z.number(),
    users: z.number().openapi({
      description:
        "Affected users (distinct user id, else IP): a HyperLogLog estimate, ±3.25 % standard error",
    }),
    mergedInto: z.string().nullable().openapi({ description: "The group this one was merged into" }),
  })
  .openapi("Group");

export const EventSummarySchema = z
  .object({
    id: z.string(),
    groupId: z.string().nullable(),
    category: z.string(),
    occurredAt: z.string(),
    receivedAt: z.string(),
    type: z.string().nullable(),
    message: z.string().nullable(),
    level: z.string().nullable(),
    release: z.string().nullable(),
    environment: z.string().nullable(),
    user: z.string().nullable(),
  })
  .openapi("EventSummary");

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(200).optional(),
});

// A new object over the shared schema's shape: zod 4 gives `.openapi` only to schemas built after
// @hono/zod-openapi was loaded, and shared/settings.ts (also in the edge bundle) never loads it, so
// which module a bundle or test evaluates first must not decide whether this line works.
export const SettingsSchema = z.object(settingsSchema.shape).openapi("ProjectSettings");
export const SettingsPatchSchema = z
  .object({
    sampleRates: settingsSchema.shape.sampleRates.unwrap().partial().optional(),
    rateLimitPerMinute: z.number().int().positive().nullable().optional(),
    spikeProtection: z.boolean().optional(),
    attachmentBytesPerMinute: settingsSchema.shape.attachmentBytesPerMinute.unwrap().optional(),
    sessionsPerMinute: settingsSchema.shape.sessionsPerMinute.unwrap().optional(),
    filters: settingsSchema.shape.filters.unwrap().partial().optional(),
    allowedOrigins: z.array(z.string().min(1).max(200)).max(100).optional(),
    scrubbing: settingsSchema.shape.scrubbing.unwrap().partial().optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .openapi("ProjectSettingsPatch");

/** A time bound in a query: ISO-8601 or epoch ms ("" means the default). */
export const TimeValue = z
  .string()
  .max(64)
  .refine((v) => v === "" || toEpochMs(v) !== null, `must be ${TIME_FORMAT}`);

export const TimeRangeQuery = z.object({
  from: TimeValue.optional().openapi({ description: "ISO-8601 or epoch ms; default 24 h ago" }),
  to: TimeValue.optional().openapi({ description: "ISO-8601 or epoch ms; default now" }),
});

/** An OpenAPI JSON response: the schema it is validated and documented with, and what it means. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const errorBody = (description: string) => json(ErrorSchema, description);

export const errorResponses = {
  400: errorBody("Invalid request (the message names the field)"),
  401: errorBody("Missing or wrong admin token"),
  404: errorBody("Not found"),
  503: errorBody(
    "Console not configured (no ADMIN_TOKEN secret), or the project is moving to another metadata shard (retry after Retry-After)",
  ),
};
