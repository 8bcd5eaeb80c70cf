// The sluice-alerts queue message: one alert decided by the processor (or a test alert sent from
// the console), delivered by workers/alerter. It carries everything the payload needs except the
// rule's target and secret, which the alerter reads at delivery time (a rotated target wins).

import { z } from "zod";
import { TRIGGERS } from "./rules";

export const alertMessageSchema = z.object({
  v: z.literal(1),
  /** Time-sortable (shared/ids.ts), unique per alert; the X-Sluice-Delivery header. */
  deliveryId: z.string().regex(/^[0-9a-f]{32}$/),
  ruleId: z.string().regex(/^[0-9a-f]{16}$/),
  projectId: z.number().int().positive(),
  trigger: z.enum([...TRIGGERS, "test"]),
  /** When the alert was decided (epoch ms): the latency clock of the delivery log. */
  decidedAt: z.number(),
  group: z
    .object({
      id: z.string(),
      type: z.string().nullable(),
      message: z.string(),
      level: z.string(),
      count: z.number(),
      firstSeen: z.number(),
      lastSeen: z.number(),
      status: z.string(),
    })
    .nullable(),
  event: z
    .object({
      id: z.string(),
      occurredAt: z.string(),
      release: z.string().nullable(),
      environment: z.string().nullable(),
    })
    .nullable(),
});

export type AlertMessage = z.infer<typeof alertMessageSchema>;
