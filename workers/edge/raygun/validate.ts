// Edge-side validation of Raygun payloads: only what Raygun's API itself rejects (malformed JSON,
// a missing/invalid occurredOn or details, an empty RUM batch). Everything else is optional and is
// coerced later by the processor, so an SDK quirk never costs a report.

import { z } from "zod";
import { badRequest } from "../../../shared/http/errors";
import { getCI } from "../../../shared/json/case-insensitive";
import { parseIsoTimestamp } from "../../../shared/raygun/timestamps";

const reportSchema = z.object({
  occurredOn: z
    .string({ error: "occurredOn is required and must be an ISO-8601 string" })
    .refine((v) => parseIsoTimestamp(v) !== null, { error: "occurredOn is not an ISO-8601 date-time" }),
  details: z.record(z.string(), z.unknown(), { error: "details is required and must be an object" }),
});

const rumItemSchema = z.object({
  sessionId: z.string({ error: "sessionId is required" }).min(1, { error: "sessionId is required" }).max(200),
  type: z.string({ error: "type is required" }).min(1).max(100),
});

function firstIssue(error: z.ZodError, prefix = ""): string {
  const issue = error.issues[0];
  if (!issue) return `${prefix}invalid payload`;
  const path = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${prefix}${path}${issue.message}`;
}

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
  const projection = { occurredOn: getCI(report, "occurredOn"), details: getCI(report, "details") };
  const parsed = reportSchema.safeParse(projection);
  if (!parsed.success) throw badRequest(firstIssue(parsed.error, `${label}: `));
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
    const parsed = rumItemSchema.safeParse({
      sessionId: getCI(item, "sessionId"),
      type: getCI(item, "type"),
    });
    if (!parsed.success) throw badRequest(firstIssue(parsed.error, `eventData[${i}]: `));
  });
  return items as Record<string, unknown>[];
}
