// QuotaCounter: one Durable Object per project and quota (events; attachment bytes; sessions)
// holding the accepted count of the current minute and the per-minute history of the last 24 h, so
// quotas hold across isolates and points of presence. It answers with the decision from
// shared/policy/quota.ts (hard limit and Raygun's spike rule max(50, 5 × 24 h average)). Only the
// edge's quota module talks to it.

import { DurableObject } from "cloudflare:workers";
import { decideQuota, type QuotaDecision } from "../../shared/policy/quota";

const DAY_MINUTES = 1440;

export interface ConsumeRequest {
  /** Items the request wants to add. */
  quantity: number;
  rateLimitPerMinute: number | null;
  spikeProtection: boolean;
  /** Count the quantity even when over the limit? (async syncs report what already happened) */
  force?: boolean;
  /** Admit all of the quantity or none (attachment bytes: part of a file is no use). */
  allOrNothing?: boolean;
  now?: number;
}

export interface ConsumeResponse extends QuotaDecision {
  /** How many of `quantity` were admitted (0 when limited, all when forced). */
  admitted: number;
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
    s.count += admitted;
    await this.ctx.storage.put("s", s);
    return { ...decision, admitted, acceptedThisMinute: s.count, avgPerMinuteOver24h: avg };
  }
}
