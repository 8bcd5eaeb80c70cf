// Trigger decisions: given what a processor batch just wrote for a group (its state after the D1
// commit, the batch's share of it, and its recent per-minute counts), which of a rule's triggers
// fire. Pure functions; workers/processor/alerts-hook.ts gathers the inputs and applies the
// cooldown. Decisions read only the post-commit state, so a redelivered batch decides the same
// alerts again and the cooldown (alert_state) makes them one.

import type { AlertRuleConfig, Trigger } from "./rules";
import { DEFAULT_SPIKE } from "./rules";

/** The group as stored after the batch's D1 transaction. */
export interface GroupState {
  id: string;
  type: string | null;
  message: string;
  level: string;
  status: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  regressedAt: number | null;
}

/** The batch's events of one group. */
export interface BatchShare {
  events: number;
  /** Earliest and latest occurrence time among them (epoch ms, what error_groups stores). */
  minTime: number;
  maxTime: number;
  environments: ReadonlySet<string>;
}

/** Events of the group per received minute, and per hour for long frequency windows. */
export interface Rates {
  /** minute start (epoch ms) → events */
  minutes: ReadonlyMap<number, number>;
  /** hour start (epoch ms) → events */
  hours: ReadonlyMap<number, number>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A new group: all of its counted events and its first occurrence are in this batch. */
export function isNewIssue(g: GroupState, share: BatchShare): boolean {
  return g.count <= share.events && g.firstSeen >= share.minTime;
}

/** Reopened by this batch: its regression time is one of the batch's occurrence times. */
export function isRegression(g: GroupState, share: BatchShare): boolean {
  return g.regressedAt != null && g.regressedAt >= share.minTime && g.regressedAt <= share.maxTime;
}

/** Events in the minute that holds `now`, against the mean per minute of the 60 before it. */
export function spikeFires(rates: Rates, now: number, spike = DEFAULT_SPIKE): boolean {
  const current = Math.floor(now / MINUTE) * MINUTE;
  const last = rates.minutes.get(current) ?? 0;
  let trailing = 0;
  for (let m = current - 60 * MINUTE; m < current; m += MINUTE) trailing += rates.minutes.get(m) ?? 0;
  return last > Math.max(spike.minCount, spike.factor * (trailing / 60));
}

/**
 * More than `count` events in the last `windowMinutes`: counted per minute up to an hour, per hour
 * beyond (the window then starts at an hour boundary, so it may count up to an hour more).
 */
export function frequencyFires(
  rates: Rates,
  now: number,
  threshold: { count: number; windowMinutes: number },
): boolean {
  return windowCount(rates, now, threshold.windowMinutes) > threshold.count;
}

export function windowCount(rates: Rates, now: number, windowMinutes: number): number {
  let n = 0;
  if (windowMinutes <= 60) {
    const current = Math.floor(now / MINUTE) * MINUTE;
    for (let i = 0; i < windowMinutes; i++) n += rates.minutes.get(current - i * MINUTE) ?? 0;
    return n;
  }
  const from = Math.floor((now - windowMinutes * MINUTE) / HOUR) * HOUR;
  for (const [h, c] of rates.hours) if (h >= from) n += c;
  return n;
}

/** How far back the minute and hour counts must reach for these rules (ms before `now`). */
export function lookback(rules: readonly AlertRuleConfig[]): { minutes: number; hours: number } {
  let minutes = 0;
  let hours = 0;
  for (const r of rules) {
    if (r.triggers.includes("spike")) minutes = Math.max(minutes, 61 * MINUTE);
    if (r.triggers.includes("frequency") && r.threshold) {
      if (r.threshold.windowMinutes <= 60)
        minutes = Math.max(minutes, (r.threshold.windowMinutes + 1) * MINUTE);
      else hours = Math.max(hours, (r.threshold.windowMinutes + 60) * MINUTE);
    }
  }
  return { minutes, hours };
}

/** Whether a rule needs per-minute counts (spike, or frequency over a window of an hour or less). */
export const needsMinutes = (r: AlertRuleConfig) =>
  r.triggers.includes("spike") ||
  (r.triggers.includes("frequency") && (r.threshold?.windowMinutes ?? 0) <= 60);

/** The triggers of `rule` that fire for this group and batch. */
export function firedTriggers(
  rule: AlertRuleConfig,
  g: GroupState,
  share: BatchShare,
  rates: Rates | null,
  now: number,
): Trigger[] {
  if (rule.level && g.level !== rule.level) return [];
  if (rule.environment && !share.environments.has(rule.environment)) return [];
  const out: Trigger[] = [];
  for (const t of rule.triggers) {
    if (t === "new_issue" && isNewIssue(g, share)) out.push(t);
    else if (t === "regression" && isRegression(g, share)) out.push(t);
    else if (t === "spike" && rates && spikeFires(rates, now, rule.spike ?? DEFAULT_SPIKE)) out.push(t);
    else if (t === "frequency" && rates && rule.threshold && frequencyFires(rates, now, rule.threshold))
      out.push(t);
  }
  return out;
}
