// The API shapes the dashboard renders, inferred from the same zod schemas the routes declare.
import type { z } from "@hono/zod-openapi";
import type { CanonicalEvent } from "../../../shared/event";
import type { ReleaseHealthSchema } from "../routes/releases";
import type { RumPageSchema } from "../routes/rum";
import type { EventSummarySchema, GroupSchema, ProjectSchema } from "../schemas";

export type Project = z.infer<typeof ProjectSchema>;
export type Group = z.infer<typeof GroupSchema>;
export type EventSummary = z.infer<typeof EventSummarySchema>;
export type RumPage = z.infer<typeof RumPageSchema>;
export type ReleaseHealth = z.infer<typeof ReleaseHealthSchema>;

export interface EventDetail {
  event: CanonicalEvent | null;
  raw: unknown;
  summary: EventSummary;
  attachments: { name: string; size: number; contentType: string | null }[];
}

export interface Bucket {
  t: string;
  count: number;
}

export interface StatsRow {
  t: string;
  category: string;
  outcome: string;
  reason: string;
  quantity: number;
}

export interface Stats {
  from: string;
  to: string;
  interval: string;
  series: StatsRow[];
  totals: Omit<StatsRow, "t">[];
}
