// A group's status change (PATCH .../groups/:groupId): active, ignored, resolved, or "resolve in
// next release" ({"status":"resolved","resolvedInRelease":"1.4.0"}), after which only an event of a
// later release reopens the group (workers/processor/group-writes.ts).

import { z } from "@hono/zod-openapi";
import { releaseKey } from "../../shared/alerts/release-order";
import { GroupStatus } from "./schemas";

export const GroupStatusPatch = z
  .object({
    status: GroupStatus,
    resolvedInRelease: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'With status "resolved": reopen only on an event of a later release' }),
  })
  .strict()
  .refine((b) => b.resolvedInRelease === undefined || b.status === "resolved", {
    message: 'only with status "resolved"',
    path: ["resolvedInRelease"],
  })
  .openapi("GroupStatusPatch");

/** Any status change clears a previous "resolve in release" unless it sets a new one. */
export const resolvedInReleaseColumns = (release: string | null) => ({
  resolvedInRelease: release,
  resolvedReleaseKey: release === null ? null : releaseKey(release),
});
