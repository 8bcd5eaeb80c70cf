import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type ProjectSettings } from "../settings";
import { hashUnit, sampleDecision, sampleKeep } from "./sampling";

const randomId = () => crypto.randomUUID().replaceAll("-", "");
const rates = (r: Partial<ProjectSettings["sampleRates"]>): ProjectSettings => ({
  ...DEFAULT_SETTINGS,
  sampleRates: { ...DEFAULT_SETTINGS.sampleRates, ...r },
});

describe("sampleKeep", () => {
  it("always keeps at 1 and never at 0", () => {
    for (let i = 0; i < 1000; i++) {
      const id = randomId();
      expect(sampleKeep(id, 1)).toBe(true);
      expect(sampleKeep(id, 0)).toBe(false);
    }
  });
  it("hashes into [0, 1)", () => {
    for (const id of ["", "a", "ffffffffffffffffffffffffffffffff", randomId()]) {
      const h = hashUnit(id);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(1);
    }
  });
  it.each([0.1, 0.5, 0.9])("keeps %s of 10,000 random ids within ±2%%", (rate) => {
    let kept = 0;
    for (let i = 0; i < 10_000; i++) if (sampleKeep(randomId(), rate)) kept++;
    expect(Math.abs(kept / 10_000 - rate)).toBeLessThanOrEqual(0.02);
  });
  it("holds the ratio on sequential ids too", () => {
    let kept = 0;
    for (let i = 0; i < 10_000; i++) if (sampleKeep(`trace-${i}`, 0.5)) kept++;
    expect(Math.abs(kept / 10_000 - 0.5)).toBeLessThanOrEqual(0.02);
  });
});

describe("sampleDecision", () => {
  it("keeps or drops a whole trace, whatever the event id", () => {
    const s = rates({ transaction: 0.5 });
    for (let i = 0; i < 200; i++) {
      const traceId = randomId();
      const first = sampleDecision({ category: "transaction", traceId, eventId: randomId() }, s);
      for (let j = 0; j < 5; j++) {
        expect(sampleDecision({ category: "transaction", traceId, eventId: randomId() }, s)).toEqual(first);
        expect(sampleDecision({ category: "span", traceId, eventId: randomId() }, s).keep).toBe(first.keep);
      }
      if (!first.keep) expect(first.reason).toBe("sample_rate");
    }
  });
  it("never samples errors by their trace", () => {
    const s = rates({ transaction: 0, error: 1 });
    expect(sampleDecision({ category: "error", traceId: randomId(), eventId: randomId() }, s)).toEqual({
      keep: true,
    });
    const noErrors = rates({ error: 0, transaction: 1 });
    expect(sampleDecision({ category: "error", traceId: randomId(), eventId: randomId() }, noErrors)).toEqual(
      {
        keep: false,
        reason: "sample_rate",
      },
    );
  });
  it("samples RUM by session and sessions by their own rate", () => {
    const s = rates({ rum: 0.5, session: 0 });
    const rumSessionId = randomId();
    const d = sampleDecision({ category: "rum", rumSessionId, eventId: randomId() }, s);
    for (let j = 0; j < 10; j++) {
      expect(sampleDecision({ category: "rum", rumSessionId, eventId: randomId() }, s)).toEqual(d);
    }
    expect(sampleDecision({ category: "session", sessionId: randomId(), eventId: randomId() }, s).keep).toBe(
      false,
    );
    expect(sampleDecision({ category: "attachment", eventId: randomId() }, rates({ error: 0 })).keep).toBe(
      true,
    );
  });
});
