// Envelope item type → data category. Relay's names go on the wire (X-Sentry-Rate-Limits, client
// reports), so SDK back-off lines up; Sluice's own `Category` routes queues and counts outcomes.

import type { Category } from "../event";

/** Relay's data category names (`relay-base-schema/src/data_category.rs`), as SDKs know them. */
export type DataCategory =
  | "default"
  | "error"
  | "transaction"
  | "security"
  | "attachment"
  | "session"
  | "profile"
  | "profile_chunk"
  | "replay"
  | "monitor"
  | "span"
  | "log_item"
  | "log_byte"
  | "feedback"
  | "trace_metric"
  | "metric_bucket"
  | "internal";

const ITEM_CATEGORIES: Record<string, DataCategory> = {
  event: "error",
  transaction: "transaction",
  security: "security",
  raw_security: "security",
  unreal_report: "error",
  attachment: "attachment",
  session: "session",
  sessions: "session",
  client_report: "internal",
  user_report: "default",
  feedback: "feedback",
  check_in: "monitor",
  log: "log_item",
  otel_log: "log_item",
  span: "span",
  otel_span: "span",
  trace_metric: "trace_metric",
  profile: "profile",
  profile_chunk: "profile",
  profile_chunk_ui: "profile",
  replay_event: "replay",
  replay_recording: "replay",
  replay_video: "replay",
  statsd: "metric_bucket",
  metric_buckets: "metric_bucket",
};

/**
 * The Relay data category an item counts against, or null for items no quota applies to
 * (unknown types, `nel`, `form_data`: Relay assigns them no quantity, so they are never limited).
 *
 * @example itemCategory("event") // "error"
 */
export function itemCategory(type: string): DataCategory | null {
  return Object.hasOwn(ITEM_CATEGORIES, type) ? ITEM_CATEGORIES[type]! : null;
}

const SLUICE_CATEGORIES: Record<string, Category> = {
  event: "error",
  unreal_report: "error",
  transaction: "transaction",
  attachment: "attachment",
  session: "session",
  sessions: "session",
  client_report: "client_report",
  user_report: "user_report",
  feedback: "user_report",
  check_in: "check_in",
  log: "log",
  otel_log: "log",
  span: "span",
  otel_span: "span",
  profile: "profile",
  profile_chunk: "profile",
  profile_chunk_ui: "profile",
  replay_event: "replay",
  replay_recording: "replay",
  replay_video: "replay",
};

/** Sluice's category for an item type; anything it has no pipeline for is "default". */
export function sluiceCategory(type: string): Category {
  return Object.hasOwn(SLUICE_CATEGORIES, type) ? SLUICE_CATEGORIES[type]! : "default";
}

/** Item types that create an event and so make the envelope answer `{"id": event_id}`. */
export function createsEvent(type: string, attachmentType?: unknown): boolean {
  if (type === "attachment") {
    return attachmentType === "event.minidump" || attachmentType === "event.applecrashreport";
  }
  return ["event", "transaction", "security", "raw_security", "nel", "unreal_report", "feedback"].includes(
    type,
  );
}
