// What a segment's `segments` row (one per batch, on its home shard) says about the R2 segment: per
// project, how many items and which D1 pointer rows (on the project's own shard) go with it. Written by d1-writes.ts, read by retention.ts.
import type { Prepared } from "./prepare";

/** Per project id: items the segment holds (`n`) and the ids of their pointer rows (`ids`). */
export type SegmentContents = Record<string, { n: number; ids: string[] }>;

/**
 * Whether an item needs a D1 pointer row to be found again: only items kept for their own sake
 * without a search document (unknown item types, payloads that could not be interpreted). Errors
 * are found through the event index; RUM page views, session updates and client reports are
 * counted into aggregates, and a row per page view would be D1 bytes per event for the retention.
 */
export function needsPointerRow(p: Prepared): boolean {
  if (p.event) return false;
  if (p.invalid) return true;
  return p.pageViews === undefined && p.sessions === undefined && p.discards === undefined;
}

/**
 * Parses a row's contents. Rows written before the counts were added list every event id of the
 * project (`{"<project>": ["<id>", ...]}`), every one with a possible pointer row: read the same way.
 */
export function parseSegmentContents(text: string): SegmentContents {
  const raw = JSON.parse(text) as Record<string, string[] | { n: number; ids: string[] }>;
  const out: SegmentContents = {};
  for (const [projectId, v] of Object.entries(raw))
    out[projectId] = Array.isArray(v) ? { n: v.length, ids: v } : v;
  return out;
}
