// Per-item processing before anything is written: load the payload (inline or claim-checked),
// parse it, scrub PII, normalize it into the canonical event, and compute its group. Which steps
// apply depends on the item type; the table below is the one place that says so.

import type { CanonicalEvent } from "../../shared/event";
import { computeFingerprint, type GroupingResult, groupIdFor } from "../../shared/grouping/fingerprint";
import type { IngestItem } from "../../shared/queue-message";
import { normalizeRaygunReport } from "../../shared/raygun/normalize";
import { type PageView, pageViewsOf } from "../../shared/rum/page-views";

export interface SessionDelta {
  release: string;
  environment: string;
  minute: number;
  started: number;
  exited: number;
  errored: number;
  crashed: number;
  abnormal: number;
}

export interface Prepared {
  item: IngestItem;
  /** The bytes stored in the segment (PII-scrubbed payload). */
  payload: string | Uint8Array;
  event?: CanonicalEvent;
  grouping?: GroupingResult & { groupId: string };
  pageViews?: PageView[];
  sessions?: SessionDelta[];
  /** Client-side discards (Sentry client reports) to add to the outcome counters. */
  discards?: { category: string; reason: string; quantity: number }[];
}

/** Raised for an item that can never be processed (it goes to the dead-letter queue, not retried). */
export class PoisonItemError extends Error {
  override name = "PoisonItemError";
}

export interface PrepareEnv {
  BLOBS: R2Bucket;
}

export type ItemPreparer = (item: IngestItem, text: string, env: PrepareEnv) => Promise<Prepared>;

function parseOrPoison(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PoisonItemError(`${what} payload is not JSON: ${(err as Error).message}`);
  }
}

async function group(event: CanonicalEvent): Promise<GroupingResult & { groupId: string }> {
  const g = await computeFingerprint(event);
  return { ...g, groupId: await groupIdFor(event.projectId, g.fingerprint) };
}

const raygunEntry: ItemPreparer = async (item, text) => {
  const report = parseOrPoison(text, "Raygun report");
  const event = normalizeRaygunReport(report, {
    eventId: item.eventId,
    projectId: item.projectId,
    receivedAt: item.receivedAt,
    client: item.client,
  });
  return { item, payload: text, event, grouping: await group(event) };
};

const raygunRum: ItemPreparer = async (item, text) => {
  const rum = parseOrPoison(text, "Raygun RUM");
  return { item, payload: text, pageViews: pageViewsOf(rum) };
};

/** Preparers by "<protocol>:<itemType>"; extended by the Sentry module. */
export const PREPARERS: Record<string, ItemPreparer> = {
  "raygun:entry": raygunEntry,
  "raygun:rum": raygunRum,
};

/** Loads an item's payload text (claim-checked payloads come from R2). */
export async function loadPayload(item: IngestItem, env: PrepareEnv): Promise<string> {
  if (item.payload !== undefined) return item.payload;
  if (!item.blobKey) throw new PoisonItemError("item has neither payload nor blobKey");
  const obj = await env.BLOBS.get(item.blobKey);
  // A missing claim blob is retried (R2 may be lagging) and dead-lettered after max retries.
  if (!obj) throw new Error(`claim-check blob ${item.blobKey} not found`);
  return obj.text();
}

export async function prepareItem(item: IngestItem, env: PrepareEnv): Promise<Prepared> {
  const preparer = PREPARERS[`${item.protocol}:${item.itemType}`];
  if (!preparer) throw new PoisonItemError(`no processor for ${item.protocol} item type "${item.itemType}"`);
  const text = await loadPayload(item, env);
  return preparer(item, text, env);
}
