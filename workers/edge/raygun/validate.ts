// Edge-side validation of Raygun payloads: only what Raygun's API itself rejects (malformed JSON,
// a missing/invalid occurredOn or details, an empty RUM batch). Everything else is optional and is
// coerced later by the processor, so an SDK quirk never costs a report.

import { badRequest } from "../../../shared/http/errors";
import { getCI, isObject } from "../../../shared/json/case-insensitive";
import { parseIsoTimestamp } from "../../../shared/raygun/timestamps";

// Plain checks rather than a schema library: two or three fields per report, on the hot path, where a
// schema library's generic machinery cost more than the checks themselves. The messages are the ones
// clients have always received ("<label>: <field>: <problem>").

/** A string of `min`..`max` UTF-16 units. */
const isString = (v: unknown, min: number, max: number): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max;

/** Parses JSON text, turning a syntax error into a 400 that says where. */
export function parseJson(text: string, what = "body"): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Throws a 400 naming the problem unless `report` is a crash report Raygun would accept. */
export function validateRaygunReport(report: unknown, label = "report"): void {
  if (typeof report !== "object" || report === null || Array.isArray(report)) {
    throw badRequest(`${label} must be a JSON object`);
  }
  // Keys are case-insensitive (PascalCase from raygun4js/.NET, camelCase elsewhere).
  const occurredOn = getCI(report, "occurredOn");
  if (typeof occurredOn !== "string") {
    throw badRequest(`${label}: occurredOn: occurredOn is required and must be an ISO-8601 string`);
  }
  if (parseIsoTimestamp(occurredOn) === null) {
    throw badRequest(`${label}: occurredOn: occurredOn is not an ISO-8601 date-time`);
  }
  if (!isObject(getCI(report, "details"))) {
    throw badRequest(`${label}: details: details is required and must be an object`);
  }
}

/** Validates a RUM body `{"eventData":[...]}` and returns its items. */
export function validateRumBody(body: unknown, maxItems: number): Record<string, unknown>[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("RUM body must be a JSON object with an eventData array");
  }
  const items = getCI(body, "eventData");
  if (!Array.isArray(items)) throw badRequest("eventData is required and must be an array");
  if (items.length === 0) throw badRequest("eventData is empty");
  if (items.length > maxItems) throw badRequest(`eventData holds ${items.length} items; at most ${maxItems}`);
  items.forEach((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw badRequest(`eventData[${i}] must be an object`);
    }
    if (!isString(getCI(item, "sessionId"), 1, 200)) {
      throw badRequest(`eventData[${i}]: sessionId: sessionId is required`);
    }
    if (!isString(getCI(item, "type"), 1, 100)) throw badRequest(`eventData[${i}]: type: type is required`);
  });
  return items as Record<string, unknown>[];
}
