// Quotas at the edge: a per-project per-minute limit of events (never exceeded), Raygun's spike
// protection (approximate), and per-category quotas of attachment bytes and sessions (never
// exceeded, like Relay's). The hot path answers a project known to be limited from isolate memory,
// without a round trip. A project with a hard limit asks its QuotaCounter Durable Object, which
// counts across isolates and points of presence; an isolate that is busy with the project asks it for
// a lease as well (about LEASE_MS of its own recent traffic, at most 1/64 of the limit) and spends it
// from memory, so the object sees a few requests a second per isolate instead of one per report. The
// object never grants past the limit; what leases hold unspent at the minute's end is not admitted
// (at most 1/64 of the limit per isolate, and only from isolates that went quiet). A quiet isolate
// takes no lease: at low rates every request asks the object, exactly as without leases. Spike
// protection counts locally and syncs with the Durable Object in the background (waitUntil) at most
// once a second per isolate, so its error margin is what all isolates accept in one sync interval;
// the sync's answer limits the rest of the minute.
//
// A counter that fails (overloaded, resetting, unreachable) never turns into an error for the SDK: a
// 503 makes Sentry SDKs drop the event with no outcome anywhere, the one loss the design forbids
// ("every dropped item has an outcome"). Relay fails open the same way when its Redis rate limiter
// errors. The isolate fails open but not unbounded: for FALLBACK_MS it stops asking that counter
// (an overloaded object is not hammered while it recovers) and enforces the limit from its own count
// of the minute, so one isolate alone never admits more than the project's limit in a minute; then
// it asks the counter again. The limit is applied whole per isolate, not divided by a guess at how
// many isolates serve the project: a share of a small limit (a few per minute) rounds to nothing and
// would refuse a quiet project's every report for our failure. What may pass during an outage is
// thus at most the limit once per isolate busy with the project, and only while the counter is down.

import type { RateLimit } from "./admission";
import type { ProjectRecord } from "./project-cache";
import type { ConsumeResponse } from "./quota-counter";

export interface QuotaEnv {
  QUOTA?: DurableObjectNamespace<import("./quota-counter").QuotaCounter>;
}

interface Local {
  limitedUntil: number;
  reason: string;
  pending: number;
  lastSync: number;
  syncing: boolean;
  /** This isolate's minute, and the units it has spent in it since `since` (its rate). */
  minute: number;
  since: number;
  used: number;
  /** Units this isolate holds from a lease, spendable until `leaseUntil` (this isolate's clock). */
  leaseLeft: number;
  leaseUntil: number;
  /** The ticket of the request asking for a lease now (0: none). */
  leasing: number;
  /** Until when the counter is not asked (it failed): the isolate decides from `used` alone. */
  fallbackUntil: number;
}

/** How much traffic a lease covers: this isolate's rate this minute, over this long. */
const LEASE_MS = 500;

const SYNC_INTERVAL_MS = 1000;
/** How long an isolate decides alone after its counter failed, before asking the counter again. */
export const FALLBACK_MS = 5_000;
/** At most one "counter failed" log line per isolate this often: a flood must not log per request. */
const FAILURE_LOG_INTERVAL_MS = 60_000;
let lastFailureLog = -Infinity;
let failuresSinceLog = 0;

/** Logs a counter failure, at most once per FAILURE_LOG_INTERVAL_MS, with how many went unlogged. */
function counterFailed(msg: string, key: string, err: unknown): void {
  failuresSinceLog++;
  const now = Date.now();
  if (now - lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
  console.warn(JSON.stringify({ msg, key, failures: failuresSinceLog, error: String(err) }));
  lastFailureLog = now;
  failuresSinceLog = 0;
}

const local = new Map<string, Local>();

function localState(projectId: string): Local {
  let s = local.get(projectId);
  if (!s)
    local.set(
      projectId,
      (s = {
        limitedUntil: 0,
        reason: "",
        pending: 0,
        lastSync: 0,
        syncing: false,
        minute: 0,
        since: 0,
        used: 0,
        leaseLeft: 0,
        leaseUntil: 0,
        leasing: 0,
        fallbackUntil: 0,
      }),
    );
  return s;
}

/**
 * Takes `quantity` units of a hard per-minute limit: from the isolate's lease when it holds enough;
 * else what the lease holds first and the rest from the counter (a unit the lease holds is counted
 * there already: asking for it again would refuse what fits), asking for a lease of about LEASE_MS
 * of this isolate's rate this minute as well (none while it is quiet, and one request at a time
 * asks: concurrent ones ask for their own units only, so one isolate holds one lease, not one per
 * request in flight). A lease is spent only while the minute the counter counted it in lasts: the
 * counter says how long that minute had left, and the isolate counts it from the moment it asked
 * (which is no later on the counter's clock than the counter's answer), so a lease never outlives
 * its minute however the two clocks differ, and none is thrown away because they differ. The
 * counter never counts more than the limit in a minute, and every unit admitted is counted in the
 * minute it is spent in.
 */
async function takeHard(
  s: Local,
  key: string,
  now: number,
  limit: number,
  consume: (quantity: number, lease: number) => Promise<ConsumeResponse>,
  quantity: number,
  allOrNothing: boolean,
): Promise<QuotaResult> {
  const minute = Math.floor(now / 60_000) * 60_000;
  if (s.minute !== minute) {
    s.minute = minute;
    s.since = now;
    s.used = 0;
    s.leasing = 0;
  }
  if (now >= s.leaseUntil) s.leaseLeft = 0;
  if (s.leaseLeft >= quantity) {
    s.leaseLeft -= quantity;
    s.used += quantity;
    return { admitted: quantity, limit: null };
  }
  // The counter failed a moment ago: decide alone until it is asked again (the lease, counted there
  // already, is spent first above).
  if (now < s.fallbackUntil) return takeLocal(s, now, limit, quantity, allOrNothing);
  const held = s.leaseLeft;
  const heldUntil = s.leaseUntil;
  s.leaseLeft = 0;
  // Units held go back to their lease if it is still the isolate's lease (no other request replaced
  // it meanwhile); else they are let go: counted already, they can only be wasted, never overspent.
  const giveBack = () => {
    if (held > 0 && s.leaseUntil === heldUntil) s.leaseLeft += held;
  };
  // This isolate's rate since its first request of the minute, over at least a second, so that its
  // first few requests do not look like a flood.
  const lease = s.leasing ? 0 : Math.floor((s.used / Math.max(1000, now - s.since)) * LEASE_MS);
  const ticket = lease > 0 ? (s.leasing = ++leaseTickets) : 0;
  let r: ConsumeResponse;
  try {
    r = await consume(quantity - held, lease);
  } catch (err) {
    // Fail open, bounded by this isolate's own count (see the top of this file).
    giveBack();
    s.fallbackUntil = Date.now() + FALLBACK_MS;
    counterFailed("quota counter failed: deciding in the isolate", key, err);
    return takeLocal(s, now, limit, quantity, allOrNothing);
  } finally {
    if (ticket !== 0 && s.leasing === ticket) s.leasing = 0;
  }
  // All or nothing refused: what the lease held goes back to it, unspent.
  const refused = allOrNothing && r.admitted < quantity - held;
  if (refused) giveBack();
  const leased = r.leased ?? 0;
  if (leased > 0) {
    const until = now + r.minuteLeftMs;
    s.leaseUntil = s.leaseLeft > 0 ? Math.min(s.leaseUntil, until) : until;
    s.leaseLeft += leased;
  }
  const admitted = refused ? 0 : held + r.admitted;
  s.used += admitted;
  if (admitted >= quantity) return { admitted: quantity, limit: null };
  // Refused, in part or whole (even a file too large for what is left): limited for the rest of the
  // minute, from memory, as the Retry-After and X-Sentry-Rate-Limits sent now tell the SDK (Relay).
  s.limitedUntil = minute + 60_000;
  s.reason = r.reason ?? "rate_limit";
  return { admitted, limit: limitFrom(s.limitedUntil, s.reason, now) };
}
let leaseTickets = 0;

/**
 * Takes `quantity` units while the counter is down: what this isolate has admitted this minute
 * (`used`, counted whichever way it was admitted) never passes the limit. Refused: limited for the
 * rest of the minute, as when the counter refuses, with the same outcome (rate_limited) and headers.
 */
function takeLocal(
  s: Local,
  now: number,
  limit: number,
  quantity: number,
  allOrNothing: boolean,
): QuotaResult {
  const room = Math.max(0, limit - s.used);
  const admitted = room >= quantity ? quantity : allOrNothing ? 0 : room;
  s.used += admitted;
  if (admitted >= quantity) return { admitted, limit: null };
  s.limitedUntil = s.minute + 60_000;
  s.reason = "rate_limit";
  return { admitted, limit: limitFrom(s.limitedUntil, s.reason, now) };
}

const minuteEnd = (now: number) => Math.floor(now / 60_000) * 60_000 + 60_000;

export interface QuotaResult {
  /** How many of the requested items may be accepted. */
  admitted: number;
  limit: RateLimit | null;
}

function limitFrom(until: number, reason: string, now: number): RateLimit {
  return { retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)), categories: [], reason };
}

/** Decides how many of `quantity` quota-counted items a project may accept now. */
export async function checkQuota(
  env: QuotaEnv,
  waitUntil: (p: Promise<unknown>) => void,
  project: ProjectRecord,
  quantity: number,
): Promise<QuotaResult> {
  const { rateLimitPerMinute, spikeProtection } = project.settings;
  if (quantity === 0 || !env.QUOTA || (rateLimitPerMinute === null && !spikeProtection)) {
    return { admitted: quantity, limit: null };
  }
  const now = Date.now();
  const s = localState(project.id);
  if (now < s.limitedUntil) return { admitted: 0, limit: limitFrom(s.limitedUntil, s.reason, now) };
  const quota = env.QUOTA;
  const stub = () => quota.get(quota.idFromName(project.id));

  if (rateLimitPerMinute !== null) {
    return takeHard(
      s,
      project.id,
      now,
      rateLimitPerMinute,
      (q, lease) => stub().consume({ quantity: q, rateLimitPerMinute, spikeProtection, lease }),
      quantity,
      false,
    );
  }

  // Spike protection only: admit now, count in the background.
  s.pending += quantity;
  if (!s.syncing && now - s.lastSync >= SYNC_INTERVAL_MS) {
    s.syncing = true;
    const n = s.pending;
    s.pending = 0;
    s.lastSync = now;
    waitUntil(
      stub()
        .consume({ quantity: n, rateLimitPerMinute: null, spikeProtection, force: true })
        .then((r) => {
          if (r.limit !== null && r.acceptedThisMinute >= r.limit) {
            s.limitedUntil = minuteEnd(Date.now());
            s.reason = r.reason ?? "spike_protection";
          }
        })
        .catch((err) => {
          s.pending += n; // counted next time; never blocks ingestion
          counterFailed("quota sync failed", project.id, err);
        })
        .finally(() => {
          s.syncing = false;
        }),
    );
  }
  return { admitted: quantity, limit: null };
}

/**
 * Categories each counted against the project's per-minute limit (`rateLimitPerMinute`) of their
 * own, as Relay counts each category apart: replays, profiles, spans, logs, check-ins, user
 * reports. (Client reports are outcomes, never limited.)
 */
export const PER_MINUTE_CATEGORIES = ["replay", "profile", "span", "log", "check_in", "user_report"] as const;
export type PerMinuteCategory = (typeof PER_MINUTE_CATEGORIES)[number];

/** Quotas of their own (Relay's categories), apart from the events' per-minute limit. */
export type CategoryQuota = "attachment" | "session" | PerMinuteCategory;

/**
 * Decides whether `quantity` of a category (attachment bytes, sessions, or items of a
 * `PER_MINUTE_CATEGORIES` category) fits the project's
 * per-minute quota of that category. Each has its own QuotaCounter, so a flood of attachments
 * never uses up the events' quota or the other way round. Attachments are admitted all or none:
 * an envelope's files are one unit to the SDK (Relay enforces them the same way).
 *
 * @example const q = await checkCategoryQuota(env, project, "attachment", totalBytes);
 */
export async function checkCategoryQuota(
  env: QuotaEnv,
  project: ProjectRecord,
  category: CategoryQuota,
  quantity: number,
): Promise<QuotaResult> {
  const limit =
    category === "attachment"
      ? project.settings.attachmentBytesPerMinute
      : category === "session"
        ? project.settings.sessionsPerMinute
        : project.settings.rateLimitPerMinute;
  if (quantity === 0 || limit === null || !env.QUOTA) return { admitted: quantity, limit: null };
  const now = Date.now();
  const name = `${project.id}:${category}`;
  const s = localState(name);
  if (now < s.limitedUntil) return { admitted: 0, limit: limitFrom(s.limitedUntil, s.reason, now) };
  const quota = env.QUOTA;
  const allOrNothing = category === "attachment";
  return takeHard(
    s,
    name,
    now,
    limit,
    (q, lease) =>
      quota.get(quota.idFromName(name)).consume({
        quantity: q,
        rateLimitPerMinute: limit,
        spikeProtection: false,
        allOrNothing,
        lease,
      }),
    quantity,
    allOrNothing,
  );
}

/** Forgets isolate-local quota state (tests). */
export function resetLocalQuota(): void {
  local.clear();
  lastFailureLog = -Infinity;
  failuresSinceLog = 0;
}
