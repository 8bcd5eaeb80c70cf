// Alert rules as the console accepts them (POST/PATCH /api/v1/projects/:id/alert-rules): what
// triggers an alert, where it goes, and how often. Validated once here with zod; the processor
// (trigger decisions) and the alerter (delivery) trust the parsed type.

import { z } from "zod";

export const TRIGGERS = ["new_issue", "regression", "spike", "frequency"] as const;
export type Trigger = (typeof TRIGGERS)[number];
/** What a delivery was for: a rule's trigger, or the console's "send test alert". */
export type AlertKind = Trigger | "test";

export const LEVELS = ["fatal", "error", "warning", "info", "debug"] as const;

export const DEFAULT_COOLDOWN_MINUTES = 30;
/** Raygun's and the spike rule: last minute > max(minCount, factor × trailing hourly mean). */
export const DEFAULT_SPIKE = { minCount: 10, factor: 5 };
/** Frequency windows up to an hour are counted per minute; longer ones per hour (group_hours). */
export const MAX_WINDOW_MINUTES = 1440;

export const targetSchema = z
  .object({
    type: z.enum(["webhook", "slack"]),
    url: z.string().min(1).max(2000),
  })
  .strict();

export const thresholdSchema = z
  .object({
    count: z.number().int().min(1).max(1_000_000),
    windowMinutes: z.number().int().min(1).max(MAX_WINDOW_MINUTES),
  })
  .strict();

export const spikeSchema = z
  .object({
    minCount: z.number().int().min(1).max(1_000_000).default(DEFAULT_SPIKE.minCount),
    factor: z.number().min(1).max(1000).default(DEFAULT_SPIKE.factor),
  })
  .strict();

const ruleFields = {
  name: z.string().trim().min(1).max(100),
  triggers: z
    .array(z.enum(TRIGGERS))
    .min(1)
    .max(TRIGGERS.length)
    .refine((t) => new Set(t).size === t.length, "triggers must not repeat"),
  target: targetSchema,
  threshold: thresholdSchema.nullable(),
  spike: spikeSchema.nullable(),
  /** Only events of this environment trigger the rule. */
  environment: z.string().min(1).max(64).nullable(),
  /** Only groups of this level trigger the rule. */
  level: z.enum(LEVELS).nullable(),
  cooldownMinutes: z.number().int().min(0).max(10_080),
  enabled: z.boolean(),
};

const needsThreshold = (r: { triggers?: readonly string[]; threshold?: unknown }) =>
  !r.triggers?.includes("frequency") || r.threshold != null;
const THRESHOLD_MESSAGE = "threshold: required (count and windowMinutes) for the frequency trigger";

export const createRuleSchema = z
  .object({
    ...ruleFields,
    threshold: ruleFields.threshold.optional(),
    spike: ruleFields.spike.optional(),
    environment: ruleFields.environment.optional(),
    level: ruleFields.level.optional(),
    cooldownMinutes: ruleFields.cooldownMinutes.default(DEFAULT_COOLDOWN_MINUTES),
    enabled: ruleFields.enabled.default(true),
  })
  .strict()
  .refine(needsThreshold, { message: THRESHOLD_MESSAGE, path: ["threshold"] });

export const patchRuleSchema = z
  .object(ruleFields)
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, "nothing to change: send at least one field");

export type CreateRule = z.infer<typeof createRuleSchema>;
export type PatchRule = z.infer<typeof patchRuleSchema>;

/** The part of a rule the processor decides with (stored as JSON in alert_rules.config). */
export interface AlertRuleConfig {
  triggers: Trigger[];
  threshold: { count: number; windowMinutes: number } | null;
  spike: { minCount: number; factor: number } | null;
  environment: string | null;
  level: string | null;
}

/** A rule after a PATCH: the merge must still make sense (frequency needs its threshold). */
export function mergeRule(
  current: AlertRuleConfig,
  patch: PatchRule,
): { config: AlertRuleConfig } | { error: string } {
  const config: AlertRuleConfig = {
    triggers: patch.triggers ?? current.triggers,
    threshold: patch.threshold !== undefined ? patch.threshold : current.threshold,
    spike: patch.spike !== undefined ? patch.spike : current.spike,
    environment: patch.environment !== undefined ? patch.environment : current.environment,
    level: patch.level !== undefined ? patch.level : current.level,
  };
  return needsThreshold(config) ? { config } : { error: THRESHOLD_MESSAGE };
}

export function configOf(rule: CreateRule): AlertRuleConfig {
  return {
    triggers: rule.triggers,
    threshold: rule.threshold ?? null,
    spike: rule.spike ?? null,
    environment: rule.environment ?? null,
    level: rule.level ?? null,
  };
}

/** Reads a stored config; a row written by an older version gets today's defaults. */
export function parseConfig(json: string): AlertRuleConfig {
  const raw = JSON.parse(json) as Partial<AlertRuleConfig>;
  return {
    triggers: (raw.triggers ?? []).filter((t): t is Trigger => (TRIGGERS as readonly string[]).includes(t)),
    threshold: raw.threshold ?? null,
    spike: raw.spike ?? null,
    environment: raw.environment ?? null,
    level: raw.level ?? null,
  };
}
