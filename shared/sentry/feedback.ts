// User feedback from Sentry SDKs, read into one shape for the processor to store (user_feedback):
// the legacy `user_report` item ({event_id, name, email, comments}, sent by showReportDialog and
// captureUserFeedback) and the newer `feedback` event (the feedback widget / captureFeedback:
// an event whose contexts.feedback holds {message, contact_email, name, url,
// associated_event_id}). Raygun has no feedback API (its SDKs send crash reports and RUM only).

import { badRequest } from "../http/errors";

export interface FeedbackRecord {
  /** The feedback's own id when the SDK gives one (a resend is then stored once). */
  id: string | null;
  /** The event the feedback is about, when the SDK names one (32 lowercase hex). */
  eventId: string | null;
  name: string | null;
  email: string | null;
  message: string;
  url: string | null;
  source: "user_report" | "feedback";
}

/** Feedback as the processor stores it: with the group of its event, once known. */
export type StoredFeedback = FeedbackRecord & { groupId: string | null };

/** Lengths kept: a feedback form's fields, not a place to store megabytes. */
const MAX_MESSAGE = 4096;
const MAX_FIELD = 256;

const text = (v: unknown, max: number): string | null =>
  typeof v === "string" && v.trim() !== "" ? v.trim().slice(0, max) : null;

/** Sentry sends event ids as 32 hex digits, sometimes as a dashed UUID. */
function eventIdOf(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const id = v.replace(/-/g, "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A `user_report` item's payload; a 400-style error when it holds no comment. */
export function parseUserReport(value: unknown): FeedbackRecord {
  if (!isObject(value)) throw badRequest("user_report must be a JSON object");
  const message = text(value.comments, MAX_MESSAGE);
  if (!message) throw badRequest("user_report has no comments");
  return {
    id: null,
    eventId: eventIdOf(value.event_id),
    name: text(value.name, MAX_FIELD),
    email: text(value.email, MAX_FIELD),
    message,
    url: null,
    source: "user_report",
  };
}

/** A `feedback` event's payload (contexts.feedback); a 400-style error when it holds no message. */
export function parseFeedbackEvent(value: unknown): FeedbackRecord {
  const contexts = isObject(value) && isObject(value.contexts) ? value.contexts : null;
  const fb = contexts && isObject(contexts.feedback) ? contexts.feedback : null;
  if (!fb) throw badRequest("feedback event has no contexts.feedback");
  const message = text(fb.message, MAX_MESSAGE);
  if (!message) throw badRequest("feedback has no message");
  const user = isObject(value) && isObject(value.user) ? value.user : {};
  return {
    id: isObject(value) ? eventIdOf(value.event_id) : null,
    eventId: eventIdOf(fb.associated_event_id),
    name: text(fb.name, MAX_FIELD) ?? text(user.name, MAX_FIELD) ?? text(user.username, MAX_FIELD),
    email: text(fb.contact_email, MAX_FIELD) ?? text(user.email, MAX_FIELD),
    message,
    url: text(fb.url, 2048),
    source: "feedback",
  };
}
