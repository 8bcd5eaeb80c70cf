// QuotaCounter: one Durable Object per project and quota (events; attachment bytes; sessions)
// holding the accepted count of the current minute and the per-minute history of the last 24 h, so
// quotas hold across isolates and points of presence. It answers with the decision from
// shared/policy/quota.ts (hard limit and Raygun's spike rule max(50, 5 × 24 h average)). Only the
// edge's quota module talks to it. A busy isolate may take a lease (units counted here ahead of its
// next requests, spent from isolate memory), as each Relay takes a budget from its global Redis
// counter (relay-quotas' global_quota.lua): the counter is never overshot, and one project's
// traffic does not need one object request per report.

import { DurableObject } from "cloudflare:workers";
import { decideQuota, type QuotaDecision } from "../../shared/policy/quota";

const DAY_MINUTES = 1440;
/** A lease is at most this fraction of the limit (1/64). */
export const LEASE_SHARE = 64;

export interface ConsumeRequest {
  /** Items the request wants to add. */
  quantity: number;
  rateLimitPerMinute: number | null;
  spikeProtection: boolean;
  /** Count the quantity even when over the limit? (async syncs report what already happened) */
  force?: boolean;
  /** Admit all of the quantity or none (attachment bytes: part of a file is no use). */
  allOrNothing?: boolean;
  /**
   * Units the isolate would like to take ahead for its next requests (a lease), granted only when
   * the quantity itself is admitted in full, and never past the limit.
   */
  lease?: number;
  now?: number;
}

export interface ConsumeResponse extends QuotaDecision {
  /** How many of `quantity` were admitted (0 when limited, all when forced). */
  admitted: number;
  /** Units taken ahead for the isolate (counted here already); 0 unless a lease was asked for. */
  leased: number;
  /** The minute (ms) this answer counted in. */
  minute: number;
  /**
   * How long that minute had left when counted (ms): a lease is spent only within it. A duration,
   * not a time, so that the isolate's clock need not agree with this object's.
   */
  minuteLeftMs: number;
  acceptedThisMinute: number;
  avgPerMinuteOver24h: number;
}

interface State {
  minute: number;
  count: number;
  /** minute (ms) → accepted count, previous minutes only, pruned to 24 h. */
  history: Record<string, number>;
}

export class QuotaCounter extends DurableObject {
  private state: State | null = null;

  private async load(): Promise<State> {
    if (!this.state)
      this.state = (await this.ctx.storage.get<State>("s")) ?? { minute: 0, count: 0, history: {} };
    return this.state;
  }

  private roll(s: State, minute: number): void {
    if (s.minute === minute) return;
    if (s.minute > 0 && s.count > 0) s.history[String(s.minute)] = s.count;
    const oldest = minute - DAY_MINUTES * 60_000;
    for (const k of Object.keys(s.history)) if (Number(k) < oldest) delete s.history[k];
    s.minute = minute;
    s.count = 0;
  }

  /** Seeds history (tests of spike protection against a synthetic past). */
  async seed(history: Record<string, number>): Promise<void> {
    const s = await this.load();
    Object.assign(s.history, history);
    await this.ctx.storage.put("s", s);
  }

  async consume(req: ConsumeRequest): Promise<ConsumeResponse> {
    const now = req.now ?? Date.now();
    const s = await this.load();
    this.roll(s, Math.floor(now / 60_000) * 60_000);
    let total = 0;
    for (const v of Object.values(s.history)) total += v;
    const avg = total / DAY_MINUTES;
    const decision = decideQuota(req, {
      acceptedThisMinute: s.count,
      avgPerMinuteOver24h: avg,
      now,
      quantity: req.quantity,
    });
    let admitted = 0;
    if (req.force || decision.allowed) admitted = req.quantity;
    else if (decision.limit !== null && !req.allOrNothing)
      admitted = Math.max(0, Math.min(req.quantity, decision.limit - s.count));
    // A lease is at most 1/LEASE_SHARE of the limit, so leases stranded in isolates that went idle
    // can hold back only a small part of a minute's quota; none is granted past the limit.
    let leased = 0;
    if (!req.force && decision.allowed && decision.limit !== null && (req.lease ?? 0) > 0)
      leased = Math.max(
        0,
        Math.min(
          Math.floor(req.lease!),
          Math.floor(decision.limit / LEASE_SHARE),
          decision.limit - s.count - admitted,
        ),
      );
    s.count += admitted + leased;
    await this.ctx.storage.put("s", s);
    return {
      ...decision,
      admitted,
      leased,
      minute: s.minute,
      minuteLeftMs: s.minute + 60_000 - now,
      acceptedThisMinute: s.count,
      avgPerMinuteOver24h: avg,
    };
  }
}
