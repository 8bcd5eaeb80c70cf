// Canonical event → search document (one per stored event; `_id` = event id), carrying the
// pointer to the event's record in its R2 segment: the document is the event's only index entry.
import type { CanonicalEvent } from "../../shared/event";
import type { SearchDoc } from "../../shared/queue-message";

const MAX_STACK_LINES = 60;

export function toSearchDoc(
  event: CanonicalEvent,
  groupId: string | null,
  fingerprint: string | null,
  segment: { key: string; offset: number; length: number } | null = null,
): SearchDoc {
  const lines: string[] = [];
  for (const exc of event.exceptions) {
    for (let i = exc.frames.length - 1; i >= 0 && lines.length < MAX_STACK_LINES; i--) {
      const f = exc.frames[i]!;
      const where = f.module ?? f.filename ?? "";
      lines.push(`${f.function ?? "?"} ${where}`.trim());
    }
  }
  const user = event.user ? (event.user.id ?? event.user.email ?? event.user.username ?? null) : null;
  return {
    eventId: event.eventId,
    projectId: event.projectId,
    groupId,
    fingerprint,
    category: event.category,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    type: event.type,
    message: event.message.slice(0, 2000),
    level: event.level,
    release: event.release,
    environment: event.environment,
    user: typeof user === "string" ? user : null,
    platform: event.platform,
    stack: lines.join("\n"),
    tags: event.tags,
    segmentKey: segment?.key ?? null,
    segmentOffset: segment?.offset ?? null,
    segmentLength: segment?.length ?? null,
  };
}
