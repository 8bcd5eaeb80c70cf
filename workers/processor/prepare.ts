// Per-item processing before anything is written: load the payload (inline or claim-checked),
// scrub PII (so the stored raw payload is clean too), normalize into the canonical event, and
// compute its group. Which steps apply depends on the item type; PREPARERS is the one table that
// says so. Sentry items without a pipeline of their own are kept raw and counted.

import type { CanonicalEvent } from "../../shared/event";
import { computeFingerprint, type GroupingResult, groupIdFor } from "../../shared/grouping/fingerprint";
import { ClientError } from "../../shared/http/errors";
import { DEFAULT_POLICY, normalizeParsed } from "../../shared/normalize";
import { scrubJson } from "../../shared/policy/scrub";
import type { IngestItem } from "../../shared/queue-message";
import { type PageView, pageViewsOf } from "../../shared/rum/page-views";
import {
  type FeedbackRecord,
  parseFeedbackEvent,
  parseUserReport,
  type StoredFeedback,
} from "../../shared/sentry/feedback";
import { parseClientReport, parseSessionAggregates, parseSessionUpdate } from "../../shared/sentry/items";
import { symbolicateStored } from "../../shared/sourcemaps/resolver";

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

export interface AttachmentRef {
  eventId: string;
  name: string;
  blobKey: string;
  contentType: string | null;
  attachmentType: string | null;
  size: number;
}

export interface Prepared {
  item: IngestItem;
  /** The bytes stored in the segment (PII-scrubbed payload; metadata only for binary items). */
  payload: string | Uint8Array;
  /** The event's summary (see summaryOf): what the batch's writes, alerts and search read. */
  event?: CanonicalEvent;
  grouping?: GroupingResult & { groupId: string };
  pageViews?: PageView[];
  sessions?: SessionDelta[];
  /** Client-side discards (Sentry client reports) to add to the outcome counters. */
  discards?: { category: string; reason: string; quantity: number }[];
  attachment?: AttachmentRef;
  /** The group's affected-users sketch as stored before this batch (group-workflow.ts). */
  storedUsers?: string | null;
  /** User feedback (Sentry user_report / feedback), stored by group-workflow.ts. */
  feedback?: StoredFeedback;
  /** The payload was stored but could not be interpreted (e.g. a malformed session): outcome "invalid". */
  invalid?: string;
  /** Whether the event gets a search document. */
  searchable?: boolean;
}

/** Raised for an item that can never be processed (it goes to the dead-letter queue, not retried). */
export class PoisonItemError extends Error {
  override name = "PoisonItemError";
}

export interface PrepareEnv {
  BLOBS: R2Bucket;
  /** The control database: source-map artifacts (symbolication is skipped without it). */
  DB?: D1Database;
}

type ItemPreparer = (item: IngestItem, text: string, env: PrepareEnv) => Promise<Prepared>;

const policyOf = (item: IngestItem) => item.policy ?? DEFAULT_POLICY;

function parseOrPoison(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PoisonItemError(`${what} payload is not JSON: ${(err as Error).message}`);
  }
}

/**
 * Parses and scrubs a JSON payload; the stored text is re-serialized only when scrubbing changed it.
 * Every payload gets the walk: it tests each string once and costs about one JSON.parse, which is
 * less than the text-level pre-check it replaced cost on real reports, and a pre-check on the text
 * cannot see what the walk sees ({name, value} records, [name, value] pairs, escaped JSON).
 */
function parseScrubbed(item: IngestItem, text: string, what: string): { value: unknown; stored: string } {
  const parsed = parseOrPoison(text, what);
  const { value, changed } = scrubJson(parsed, policyOf(item).scrubbing);
  return { value, stored: changed ? JSON.stringify(value) : text };
}

/** Maps JavaScript frames to their original source before grouping; the record rides on item.meta. */
async function symbolicate(
  item: IngestItem,
  value: unknown,
  event: CanonicalEvent,
  env: PrepareEnv,
  unscrubbed?: () => unknown,
) {
  if (!env.DB || item.meta?.symbolication) return;
  const meta = { ...(item.meta ?? {}) };
  if (await symbolicateStored({ DB: env.DB, BLOBS: env.BLOBS }, event, value, meta, unscrubbed))
    item.meta = meta;
}

/**
 * The canonical event without the parts only its detail view shows (extra, contexts, request,
 * breadcrumbs, spans): those are subtrees of the parsed payload, several times its size, and a
 * batch would hold every item's until its writes are done. Nothing after prepare reads them, and
 * the console rebuilds the full event from the stored record (shared/normalize.ts).
 */
function summaryOf(event: CanonicalEvent): CanonicalEvent {
  event.extra = {};
  event.contexts = {};
  event.request = null;
  event.breadcrumbs = [];
  if (event.spans) event.spans = null;
  return event;
}

async function group(event: CanonicalEvent): Promise<GroupingResult & { groupId: string }> {
  const g = await computeFingerprint(event);
  return { ...g, groupId: await groupIdFor(event.projectId, g.fingerprint) };
}

const raygunEntry: ItemPreparer = async (item, text, env) => {
  const { value, stored } = parseScrubbed(item, text, "Raygun report");
  const event = normalizeParsed(item, value)!;
  await symbolicate(item, value, event, env);
  const grouping = await group(event);
  return { item, payload: stored, event: summaryOf(event), grouping, searchable: true };
};

const raygunRum: ItemPreparer = async (item, text) => {
  const { value, stored } = parseScrubbed(item, text, "Raygun RUM");
  return { item, payload: stored, pageViews: pageViewsOf(value) };
};

const sentryEvent: ItemPreparer = async (item, text, env) => {
  const { value, stored } = parseScrubbed(item, text, `Sentry ${item.itemType}`);
  let event: CanonicalEvent;
  try {
    event = normalizeParsed(item, value)!;
  } catch (err) {
    if (err instanceof ClientError)
      throw new PoisonItemError(`Sentry ${item.itemType}: ${err.message} ${err.causes.join("; ")}`);
    throw err;
  }
  // Transactions are stored and counted, never grouped as errors.
  if (item.itemType === "transaction") return { item, payload: stored, event: summaryOf(event) };
  await symbolicate(item, value, event, env, stored === text ? undefined : () => JSON.parse(text));
  const grouping = await group(event);
  return { item, payload: stored, event: summaryOf(event), grouping, searchable: true };
};

/** Aggregating items: a payload that cannot be interpreted is still kept, counted as invalid. */
const sentryAggregate =
  (interpret: (value: unknown, p: Prepared) => void): ItemPreparer =>
  async (item, text) => {
    const { value, stored } = parseScrubbed(item, text, `Sentry ${item.itemType}`);
    const prepared: Prepared = { item, payload: stored };
    try {
      interpret(value, prepared);
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      prepared.invalid = `invalid:${item.itemType}`;
    }
    return prepared;
  };

const toSessionDeltas = (list: ReturnType<typeof parseSessionUpdate>): SessionDelta[] =>
  list.map((d) => ({ ...d, environment: d.environment ?? "" }));

const sentryRaw: ItemPreparer = async (item, text) => {
  // Kept as received (scrubbed when it is JSON), counted, not interpreted.
  try {
    const { stored } = parseScrubbed(item, text, `Sentry ${item.itemType}`);
    return { item, payload: stored };
  } catch {
    return { item, payload: text };
  }
};

/** Preparers by "<protocol>:<itemType>"; Sentry types not listed fall back to `sentryRaw`. */
export const PREPARERS: Record<string, ItemPreparer> = {
  "raygun:entry": raygunEntry,
  "raygun:rum": raygunRum,
  "sentry:event": sentryEvent,
  "sentry:transaction": sentryEvent,
  "sentry:session": sentryAggregate((v, p) => {
    p.sessions = toSessionDeltas(parseSessionUpdate(v));
  }),
  "sentry:sessions": sentryAggregate((v, p) => {
    p.sessions = toSessionDeltas(parseSessionAggregates(v));
  }),
  "sentry:client_report": sentryAggregate((v, p) => {
    p.discards = parseClientReport(v);
  }),
  "sentry:user_report": sentryAggregate((v, p) => {
    p.feedback = withGroup(parseUserReport(v));
  }),
  "sentry:feedback": sentryAggregate((v, p) => {
    p.feedback = withGroup(parseFeedbackEvent(v));
  }),
};

const withGroup = (f: FeedbackRecord): StoredFeedback => ({ ...f, groupId: null });

/** Binary items (attachments, replays) stay in their own R2 object; the segment keeps metadata. */
function prepareBinary(item: IngestItem): Prepared {
  const headers = (item.meta?.item ?? {}) as Record<string, unknown>;
  const eventId = typeof item.meta?.eventId === "string" ? item.meta.eventId : item.eventId;
  const name =
    typeof headers.filename === "string"
      ? headers.filename.slice(0, 200)
      : `${item.itemType}-${item.eventId}`;
  const attachment: AttachmentRef = {
    eventId,
    name,
    blobKey: item.blobKey!,
    contentType: typeof headers.content_type === "string" ? headers.content_type : null,
    attachmentType: typeof headers.attachment_type === "string" ? headers.attachment_type : null,
    size: item.size,
  };
  return { item, payload: JSON.stringify(attachment), attachment };
}

/** Loads an item's payload text (claim-checked payloads come from R2). */
export async function loadPayload(item: IngestItem, env: PrepareEnv): Promise<string> {
  if (item.payload !== undefined) return item.payload;
  if (!item.blobKey) throw new PoisonItemError("item has neither payload nor blobKey");
  const obj = await env.BLOBS.get(item.blobKey);
  // A missing claim blob is retried (R2 may be lagging) and dead-lettered after max retries.
  if (!obj) throw new Error(`claim-check blob ${item.blobKey} not found`);
  return obj.text();
}

/** Per-item processing budget (ms) unless the environment sets ITEM_BUDGET_MS. */
export const ITEM_BUDGET_MS = 2000;

/** The per-item budget this environment grants (`ITEM_BUDGET_MS`, else the default). */
export function itemBudgetMs(env: object): number {
  const raw = Number((env as { ITEM_BUDGET_MS?: unknown }).ITEM_BUDGET_MS);
  return Number.isFinite(raw) && raw > 0 ? raw : ITEM_BUDGET_MS;
}

/**
 * Prepares one item. Only loading a claim-checked payload can fail transiently (R2); once the
 * payload is in hand every step is a pure function of it, so any error it throws, and any run past
 * the item's budget, would recur on every retry: it becomes a PoisonItemError naming the reason,
 * and the item alone goes to the dead letters while the rest of its message and batch is stored.
 * Every step is linear in its input (shared/policy/linear-time.test.ts): that, not the budget,
 * bounds CPU. The budget is a backstop for wall-clock time: an async stall is cut by a timer.
 * A synchronous overrun is caught when it returns only where the clock advances during CPU work
 * (Node, tests); deployed Workers do not advance Date.now() during synchronous work, so there the
 * budget does not see a CPU overrun (the Workers CPU limit does).
 * Payloads load concurrently, but items take turns to be processed: the clock then measures each
 * item's own work, and one item hogging the thread cannot push the others past their budgets.
 */
export async function prepareItem(
  item: IngestItem,
  env: PrepareEnv,
  budgetMs = ITEM_BUDGET_MS,
): Promise<Prepared> {
  if (item.binary) {
    if (!item.blobKey) throw new PoisonItemError("binary item without blobKey");
    return prepareBinary(item);
  }
  const key = `${item.protocol}:${item.itemType}`;
  const preparer = PREPARERS[key] ?? (item.protocol === "sentry" ? sentryRaw : undefined);
  if (!preparer) throw new PoisonItemError(`no processor for ${item.protocol} item type "${item.itemType}"`);
  const text = await loadPayload(item, env);
  return inTurn(() => prepareTimed(preparer, item, text, env, key, budgetMs));
}

let turn: Promise<unknown> = Promise.resolve();

/** Runs `fn` after every earlier turn of this isolate has settled. */
function inTurn<T>(fn: () => Promise<T>): Promise<T> {
  const run = turn.then(fn, fn);
  turn = run.catch(() => undefined);
  return run;
}

async function prepareTimed(
  preparer: ItemPreparer,
  item: IngestItem,
  text: string,
  env: PrepareEnv,
  key: string,
  budgetMs: number,
): Promise<Prepared> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PoisonItemError(budgetReason(budgetMs, Date.now() - started))),
      budgetMs,
    );
  });
  try {
    const prepared = await Promise.race([preparer(item, text, env), overrun]);
    const spent = Date.now() - started;
    if (spent > budgetMs) throw new PoisonItemError(budgetReason(budgetMs, spent));
    return prepared;
  } catch (err) {
    if (err instanceof PoisonItemError) throw err;
    const e = err as Error;
    throw new PoisonItemError(
      `${key} item could not be processed: ${e?.name ?? "Error"}: ${e?.message ?? String(err)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function budgetReason(budgetMs: number, spent: number): string {
  return `item exceeded its processing budget (${spent} ms > ${budgetMs} ms)`;
}
