// Per-project settings: stored as JSON in D1 (projects.settings), edited through the console's
// PATCH /api/v1/projects/:id/settings, read by the edge through its isolate cache. Validated once
// here with zod; everything downstream trusts the parsed type.

import { z } from "zod";

const rate = z.number().min(0).max(1);

export const settingsSchema = z.object({
  /** Fraction of items kept per category (deterministic per trace / RUM session). */
  sampleRates: z
    .object({ error: rate, transaction: rate, session: rate, rum: rate })
    .strict()
    .default({ error: 1, transaction: 1, session: 1, rum: 1 }),
  /** Hard per-project limit of accepted events (errors, transactions, RUM) per minute; null = no limit. */
  rateLimitPerMinute: z.number().int().positive().nullable().default(null),
  /** Raygun's rule: allow max(50, 5 × the 24 h average per-minute accepted rate). */
  spikeProtection: z.boolean().default(true),
  /** Per-minute quota of Relay's `attachment` category, counted in bytes; null = no limit. */
  attachmentBytesPerMinute: z.number().int().positive().nullable().default(null),
  /** Per-minute quota of Relay's `session` category (session updates and aggregates); null = no limit. */
  sessionsPerMinute: z.number().int().positive().nullable().default(null),
  filters: z
    .object({
      localhost: z.boolean(),
      webCrawlers: z.boolean(),
      browserExtensions: z.boolean(),
      legacyBrowsers: z.boolean().default(false),
      /** Globs matched against the event's release. */
      releases: z.array(z.string().min(1).max(200)).max(100),
      /** Globs matched against "Type: message" and the message. */
      errorMessages: z.array(z.string().min(1).max(500)).max(100),
      /** IPs or CIDR ranges (v4 or v6). */
      ipAddresses: z.array(z.string().min(1).max(64)).max(100),
    })
    .strict()
    .default({
      localhost: false,
      webCrawlers: true,
      browserExtensions: true,
      legacyBrowsers: false,
      releases: [],
      errorMessages: [],
      ipAddresses: [],
    }),
  /** Origins allowed to post from browsers ("*" = any). */
  allowedOrigins: z.array(z.string().min(1).max(200)).max(100).default(["*"]),
  scrubbing: z
    .object({
      defaults: z.boolean(),
      scrubIpAddresses: z.boolean(),
      sensitiveFields: z.array(z.string().min(1).max(100)).max(100),
    })
    .strict()
    .default({ defaults: true, scrubIpAddresses: false, sensitiveFields: [] }),
  retentionDays: z.number().int().min(1).max(3650).default(90),
});

export type ProjectSettings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: ProjectSettings = settingsSchema.parse({});

/** Parses stored settings JSON, falling back to defaults for anything missing or invalid. */
export function readSettings(json: string | null | undefined): ProjectSettings {
  if (!json) return DEFAULT_SETTINGS;
  try {
    const parsed = settingsSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : DEFAULT_SETTINGS;
  } catch {
    return DEFAULT_SETTINGS;
  }
}
