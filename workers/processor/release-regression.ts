// "Resolve in next release" (PATCH .../groups/:groupId {"status":"resolved","resolvedInRelease"}):
// such a group is reopened only by an event of a later release (shared/alerts/release-order.ts),
// not by any event as a plainly resolved group is (group-writes.ts). One statement per batch,
// ledger-guarded, in the batch's transaction; it reads groups by primary key only.

import { type SQL, sql } from "drizzle-orm";
import { releaseKey } from "../../shared/alerts/release-order";
import { jsonChunks } from "../../shared/json-chunks";
import type { StoredRef } from "./d1-writes";
import { guard, type LedgerScope } from "./ledger-sql";

/** `refs`: the items of the messages `scope` admits (ledger-sql.ts `admitted`). */
export function releaseRegressionStatements(scope: LedgerScope, refs: StoredRef[]): SQL[] {
  // Per group and message: the latest release (by release order) and occurrence time.
  const rows = new Map<string, { p: number; g: string; k: string; t: number; mid: string }>();
  for (const { prepared: p, messageId } of refs) {
    if (!p.grouping || !p.event?.release) continue;
    const key = `${p.item.projectId}\u0000${p.grouping.groupId}\u0000${messageId}`;
    const k = releaseKey(p.event.release.slice(0, 200));
    const t = Date.parse(p.event.occurredAt);
    const row = rows.get(key);
    if (!row) rows.set(key, { p: Number(p.item.projectId), g: p.grouping.groupId, k, t, mid: messageId });
    else {
      if (k > row.k) row.k = k;
      if (t > row.t) row.t = t;
    }
  }
  // Groups are probed by primary key from the batch's rows (never a scan of error_groups); the
  // regression time is read back from the same rows for the few groups that reopen.
  return jsonChunks([...rows.values()]).map(
    (
      chunk,
    ) => sql`UPDATE error_groups SET status = 'active', resolved_in_release = NULL, resolved_release_key = NULL,
        regressed_at = (SELECT max(r.value->>'t') FROM json_each(${chunk}) r
          WHERE r.value->>'p' = error_groups.project_id AND r.value->>'g' = error_groups.id)
      WHERE (project_id, id) IN (
        SELECT g.project_id, g.id
        FROM (SELECT d.value->>'p' AS p, d.value->>'g' AS g, max(d.value->>'k') AS k
              FROM json_each(${chunk}) d
              WHERE ${guard(scope, sql`d.value->>'mid'`)} GROUP BY 1, 2) d
        CROSS JOIN error_groups g ON g.project_id = d.p AND g.id = d.g
        WHERE g.status = 'resolved' AND g.resolved_release_key IS NOT NULL AND d.k > g.resolved_release_key)`,
  );
}
