// Non-event envelope items the processor turns into counters: release-health sessions (single
// updates and pre-aggregated buckets) and SDK client reports (drops that became outcomes).
//
// Release-health rule implemented (Sentry semantics, counters instead of Sentry's session-id sets):
//   • `started` +1 for an update with `init: true` (every session sends exactly one);
//   • at a terminal update the session lands in exactly one bucket:
//       crashed → crashed; abnormal → abnormal; errored → errored;
//       exited  → errored when `errors > 0`, else exited (a healthy exit);
//   • `ok` updates (still running) add nothing beyond `started`; unknown statuses count as `ok`.
// Every delta is bucketed by the minute the session *started*, so a session's start and end land
// in the same bucket, like `sessions` aggregates whose `started` is their bucket time.

import { badRequest } from "../http/errors";
import { isObject } from "../json/case-insensitive";
import { str } from "./event-parts";
import { parseTimestamp } from "./timestamps";

export interface SessionDelta {
  release: string;
  environment: string | null;
  /** Milliseconds since the epoch, floored to the minute. */
  minute: number;
  started: number;
  exited: number;
  errored: number;
  crashed: number;
  abnormal: number;
}

export interface ClientDiscard {
  reason: string;
  category: string;
  quantity: number;
}

const invalidSession = (cause: string) => badRequest("invalid session", [cause]);
const floorMinute = (secs: number) => Math.floor(secs / 60) * 60_000;
/**
 * The most one session update, aggregate bucket or discard entry may count. Relay bounds session
 * counts too; without a bound, two buckets of 5e18 overflow D1's 64-bit sum() and fail the whole
 * processor batch, other projects' items included. A million per entry is more than any SDK
 * aggregates in a minute, and the rows one statement sums stay far below 2^63.
 */
export const MAX_ITEM_COUNT = 1_000_000;
const count = (v: unknown) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.min(Math.floor(v), MAX_ITEM_COUNT) : 0;

function attrs(v: unknown, where: string): { release: string; environment: string | null } {
  if (!isObject(v)) throw invalidSession(`${where}: missing attrs`);
  const release = str(v.release);
  if (!release) throw invalidSession(`${where}: attrs.release is required`);
  return { release, environment: str(v.environment) };
}

/**
 * One `session` item (a single session update) → 0 or 1 delta.
 *
 * @example parseSessionUpdate({ sid, init: true, started, status: "exited", attrs: { release: "1.0" } })
 */
export function parseSessionUpdate(payload: unknown): SessionDelta[] {
  if (!isObject(payload)) throw invalidSession("session payload must be a JSON object");
  const p = payload;
  if (typeof p.sid !== "string" || p.sid === "") throw invalidSession("sid is required");
  const started = parseTimestamp(p.started);
  if (started === null) throw invalidSession("started must be a timestamp");
  if (p.timestamp != null && parseTimestamp(p.timestamp) === null) {
    throw invalidSession("timestamp must be a timestamp");
  }
  if (p.errors != null && typeof p.errors !== "number") throw invalidSession("errors must be a number");
  if (p.status != null && typeof p.status !== "string") throw invalidSession("status must be a string");
  const { release, environment } = attrs(p.attrs, "session");

  const delta: SessionDelta = {
    release,
    environment,
    minute: floorMinute(started),
    started: p.init === true ? 1 : 0,
    exited: 0,
    errored: 0,
    crashed: 0,
    abnormal: 0,
  };
  const status = p.status ?? "ok";
  if (status === "crashed") delta.crashed = 1;
  else if (status === "abnormal") delta.abnormal = 1;
  else if (status === "errored") delta.errored = 1;
  else if (status === "exited") {
    if (count(p.errors) > 0) delta.errored = 1;
    else delta.exited = 1;
  }
  const changed = delta.started + delta.exited + delta.errored + delta.crashed + delta.abnormal;
  return changed > 0 ? [delta] : [];
}

/** A `sessions` item (aggregates per started-minute) → one delta per non-empty bucket. */
export function parseSessionAggregates(payload: unknown): SessionDelta[] {
  if (!isObject(payload)) throw invalidSession("sessions payload must be a JSON object");
  const { release, environment } = attrs(payload.attrs, "sessions");
  if (!Array.isArray(payload.aggregates)) throw invalidSession("sessions: aggregates must be an array");
  const out: SessionDelta[] = [];
  payload.aggregates.forEach((a, i) => {
    if (!isObject(a)) throw invalidSession(`sessions: aggregates[${i}] must be an object`);
    const started = parseTimestamp(a.started);
    if (started === null) throw invalidSession(`sessions: aggregates[${i}].started must be a timestamp`);
    const d: SessionDelta = {
      release,
      environment,
      minute: floorMinute(started),
      started: 0,
      exited: count(a.exited),
      errored: count(a.errored),
      crashed: count(a.crashed),
      abnormal: count(a.abnormal),
    };
    // Aggregate buckets are final outcomes, mutually exclusive; together they are the starts.
    d.started = d.exited + d.errored + d.crashed + d.abnormal;
    if (d.started > 0) out.push(d);
  });
  return out;
}

/**
 * A `client_report` item → the SDK's discards (`discarded_events`). Zero quantities are skipped.
 *
 * @example parseClientReport({ discarded_events: [{ reason: "before_send", category: "error", quantity: 2 }] })
 */
export function parseClientReport(payload: unknown): ClientDiscard[] {
  if (!isObject(payload)) throw badRequest("invalid client report", ["payload must be a JSON object"]);
  const list = payload.discarded_events;
  if (list == null) return [];
  if (!Array.isArray(list)) throw badRequest("invalid client report", ["discarded_events must be an array"]);
  const out: ClientDiscard[] = [];
  list.forEach((d, i) => {
    const ok =
      isObject(d) &&
      typeof d.reason === "string" &&
      d.reason !== "" &&
      typeof d.category === "string" &&
      d.category !== "" &&
      typeof d.quantity === "number" &&
      Number.isInteger(d.quantity) &&
      d.quantity >= 0;
    if (!ok) {
      throw badRequest("invalid client report", [
        `discarded_events[${i}] needs a reason, a category and a non-negative integer quantity`,
      ]);
    }
    if ((d.quantity as number) > 0) {
      out.push({
        reason: d.reason as string,
        category: d.category as string,
        quantity: Math.min(d.quantity as number, MAX_ITEM_COUNT), // see MAX_ITEM_COUNT
      });
    }
  });
  return out;
}
