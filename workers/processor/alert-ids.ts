// Alert delivery ids are event-style ids (shared/ids.ts: 12 hex digits of milliseconds first), so
// the delivery log is ordered by time in its primary key and pruned by key range.

/** The id prefix of `ms`: every id made at or after `ms` sorts at or after it. */
export const timeHexPrefix = (ms: number) =>
  Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0").slice(-12);
