// Raygun ingestion routes: POST /entries (one crash report), /entries/bulk (an array of up to 100,
// raygun4node's batch mode) and /events (RUM). Validate, admit, enqueue, then 202 with an empty
// body — exactly 202: raygun4js resends anything else.

import type { Context } from "hono";
import { Hono } from "hono";
import { badRequest, ClientError } from "../../../shared/http/errors";
import { decodeUtf8, readBody } from "../../../shared/http/read-body";
import { newEventId } from "../../../shared/ids";
import { arrayElementTexts } from "../../../shared/json/array-elements";
import { getCI, getStringCI } from "../../../shared/json/case-insensitive";
import { memberTextCI } from "../../../shared/json/member-text";
import type { IngestItem } from "../../../shared/queue-message";
import { type Admission, admit, type Candidate } from "../admission";
import { clientInfo } from "../client-info";
import { enqueue, utf8Length } from "../enqueue";
import { itemPolicy } from "../project-cache";
import type { EdgeApp } from "../types";
import { authenticateRaygun } from "./auth";
import { parseJson, validateRaygunReport, validateRumBody } from "./validate";

/** Raygun's documented limit per crash report. */
export const RAYGUN_MAX_REPORT_BYTES = 128 * 1024;
export const RAYGUN_MAX_BULK = 100;
const RAYGUN_MAX_BULK_BYTES = RAYGUN_MAX_BULK * RAYGUN_MAX_REPORT_BYTES;
const RUM_MAX_ITEMS = 100;
const RUM_MAX_BYTES = 1024 * 1024;

type Ctx = Context<EdgeApp>;

/**
 * The text of each item of a RUM body's eventData array (the member validateRumBody read), sliced
 * from the body; null if the slices do not match the parsed items one to one (they always should).
 */
function rumItemTexts(text: string, count: number): string[] | null {
  const member = memberTextCI(text, "eventData");
  const texts = member === null ? null : arrayElementTexts(member);
  return texts?.length === count ? texts : null;
}

function respond(c: Ctx, admission: Admission): Response {
  if (admission.accepted.length === 0 && admission.limits.length > 0) {
    const retry = Math.max(...admission.limits.map((l) => l.retryAfterSeconds));
    return c.text("rate limit exceeded", 429, { "Retry-After": String(Math.ceil(retry)) });
  }
  return c.body(null, 202);
}

async function admitAndEnqueue(
  c: Ctx,
  kind: "errors" | "rum",
  project: Awaited<ReturnType<typeof authenticateRaygun>>,
  candidates: Candidate[],
) {
  const admission = await admit(
    c.env,
    (p) => c.executionCtx.waitUntil(p),
    project,
    candidates[0]!.item.client,
    candidates,
  );
  if (admission.accepted.length > 0 || admission.outcomes.length > 0) {
    await enqueue(c.env as never, kind, admission.accepted, admission.outcomes);
  }
  return respond(c, admission);
}

export const raygunRoutes = new Hono<EdgeApp>({ strict: false })
  .post("/entries", async (c) => {
    c.set("category", "error");
    const project = await authenticateRaygun(c);
    const bytes = await readBody(c.req.raw, { limit: RAYGUN_MAX_REPORT_BYTES, what: "crash report" });
    const text = decodeUtf8(bytes, "crash report");
    const report = parseJson(text, "crash report");
    validateRaygunReport(report);
    const client = clientInfo(c.req.raw, c.env, c.get("origin"));
    const item: IngestItem = {
      protocol: "raygun",
      category: "error",
      itemType: "entry",
      projectId: project.id,
      eventId: newEventId(),
      receivedAt: Date.now(),
      client,
      payload: text,
      size: bytes.byteLength,
      policy: itemPolicy(project),
    };
    return admitAndEnqueue(c, "errors", project, [{ item, parsed: report }]);
  })
  .post("/entries/bulk", async (c) => {
    c.set("category", "error");
    const project = await authenticateRaygun(c);
    const bytes = await readBody(c.req.raw, { limit: RAYGUN_MAX_BULK_BYTES, what: "bulk body" });
    const text = decodeUtf8(bytes, "bulk body");
    const body = parseJson(text, "bulk body");
    if (!Array.isArray(body)) throw badRequest("bulk body must be a JSON array of crash reports");
    if (body.length === 0) throw badRequest("bulk body is empty");
    if (body.length > RAYGUN_MAX_BULK) {
      throw badRequest(`bulk body holds ${body.length} reports; at most ${RAYGUN_MAX_BULK}`);
    }
    // Each report is queued as the client sent it (its text in the body), not serialised again.
    const texts = arrayElementTexts(text);
    const client = clientInfo(c.req.raw, c.env, c.get("origin"));
    const receivedAt = Date.now();
    // Validate all before enqueueing any: a bad bulk request writes nothing.
    const candidates = body.map((report, i): Candidate => {
      validateRaygunReport(report, `reports[${i}]`);
      const payload = texts[i]!;
      const size = utf8Length(payload);
      // The limit applies to the report's compact form, whatever whitespace it was sent with.
      const compact = size > RAYGUN_MAX_REPORT_BYTES ? utf8Length(JSON.stringify(report)) : size;
      if (compact > RAYGUN_MAX_REPORT_BYTES) {
        throw new ClientError(
          413,
          `reports[${i}] is ${compact} bytes; at most ${RAYGUN_MAX_REPORT_BYTES}`,
          "too_large",
        );
      }
      const item: IngestItem = {
        protocol: "raygun",
        category: "error",
        itemType: "entry",
        projectId: project.id,
        eventId: newEventId(receivedAt),
        receivedAt,
        client,
        payload,
        size,
        policy: itemPolicy(project),
      };
      return { item, parsed: report };
    });
    return admitAndEnqueue(c, "errors", project, candidates);
  })
  .post("/events", async (c) => {
    c.set("category", "rum");
    const project = await authenticateRaygun(c);
    const bytes = await readBody(c.req.raw, { limit: RUM_MAX_BYTES, what: "RUM body" });
    const text = decodeUtf8(bytes, "RUM body");
    const body = parseJson(text, "RUM body");
    const rumItems = validateRumBody(body, RUM_MAX_ITEMS);
    // Each page view is queued as the client sent it (its text in the body), not serialised again.
    const texts = rumItemTexts(text, rumItems.length);
    const client = clientInfo(c.req.raw, c.env, c.get("origin"));
    const receivedAt = Date.now();
    const candidates = rumItems.map((rum, i): Candidate => {
      const payload = texts?.[i] ?? JSON.stringify(rum);
      return {
        item: {
          protocol: "raygun",
          category: "rum",
          itemType: "rum",
          projectId: project.id,
          eventId: newEventId(receivedAt),
          receivedAt,
          client,
          payload,
          size: utf8Length(payload),
          meta: { rumType: getStringCI(rum, "type") },
          policy: itemPolicy(project),
        },
        parsed: rum,
        sampleKey: String(getCI(rum, "sessionId")),
      };
    });
    return admitAndEnqueue(c, "rum", project, candidates);
  });
