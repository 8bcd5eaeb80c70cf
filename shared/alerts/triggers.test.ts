import { describe, expect, it } from "vitest";
import type { AlertRuleConfig } from "./rules";
import { firedTriggers, type GroupState, type Rates, spikeFires, windowCount } from "./triggers";

const MIN = 60_000;
const now = Date.UTC(2026, 10, 30, 12, 30, 20);
const minute = Math.floor(now / MIN) * MIN;

const group = (g: Partial<GroupState> = {}): GroupState => ({
  id: "0123456789abcdef",
  type: "Error",
  message: "boom",
  level: "error",
  status: "active",
  count: 3,
  firstSeen: now - 1000,
  lastSeen: now,
  regressedAt: null,
  ...g,
});
const share = { events: 3, minTime: now - 1000, maxTime: now, environments: new Set(["production"]) };
const rule = (r: Partial<AlertRuleConfig>): AlertRuleConfig => ({
  triggers: ["new_issue"],
  threshold: null,
  spike: null,
  environment: null,
  level: null,
  ...r,
});
const rates = (perMinute: Record<number, number>, hours: Record<number, number> = {}): Rates => ({
  minutes: new Map(Object.entries(perMinute).map(([k, v]) => [minute - Number(k) * MIN, v])),
  hours: new Map(Object.entries(hours).map(([k, v]) => [Number(k), v])),
});

describe("trigger decisions", () => {
  it("new_issue: only when every counted event of the group is in this batch", () => {
    expect(firedTriggers(rule({}), group(), share, null, now)).toEqual(["new_issue"]);
    expect(firedTriggers(rule({}), group({ count: 4 }), share, null, now)).toEqual([]);
    expect(firedTriggers(rule({}), group({ firstSeen: now - 5000 }), share, null, now)).toEqual([]);
  });

  it("regression: only when this batch reopened the group", () => {
    const r = rule({ triggers: ["regression"] });
    expect(firedTriggers(r, group({ count: 50, regressedAt: now }), share, null, now)).toEqual([
      "regression",
    ]);
    expect(firedTriggers(r, group({ count: 50, regressedAt: now - 3_600_000 }), share, null, now)).toEqual(
      [],
    );
    expect(firedTriggers(r, group({ count: 50 }), share, null, now)).toEqual([]);
  });

  it("spike: last minute above max(10, 5 × the trailing hourly mean per minute)", () => {
    expect(spikeFires(rates({ 0: 11 }), now)).toBe(true);
    expect(spikeFires(rates({ 0: 10 }), now)).toBe(false);
    // 60 events per minute for the last hour: a spike needs more than 300.
    const busy = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [i + 1, 60]));
    expect(spikeFires(rates({ ...busy, 0: 300 }), now)).toBe(false);
    expect(spikeFires(rates({ ...busy, 0: 301 }), now)).toBe(true);
    // Configurable per rule.
    expect(spikeFires(rates({ 0: 4 }), now, { minCount: 3, factor: 2 })).toBe(true);
  });

  it("frequency: more than count in the window, per minute up to an hour and per hour beyond", () => {
    const r = rule({ triggers: ["frequency"], threshold: { count: 5, windowMinutes: 3 } });
    expect(firedTriggers(r, group({ count: 99 }), share, rates({ 0: 2, 1: 2, 2: 2 }), now)).toEqual([
      "frequency",
    ]);
    expect(firedTriggers(r, group({ count: 99 }), share, rates({ 0: 2, 1: 2, 3: 20 }), now)).toEqual([]);
    const hour = Math.floor(now / 3_600_000) * 3_600_000;
    const daily = rates({}, { [hour]: 7, [hour - 3_600_000]: 3, [hour - 48 * 3_600_000]: 100 });
    expect(windowCount(daily, now, 120)).toBe(10);
  });

  it("filters by level and environment", () => {
    expect(firedTriggers(rule({ level: "fatal" }), group(), share, null, now)).toEqual([]);
    expect(firedTriggers(rule({ environment: "staging" }), group(), share, null, now)).toEqual([]);
    expect(
      firedTriggers(rule({ environment: "production", level: "error" }), group(), share, null, now),
    ).toEqual(["new_issue"]);
  });
});
