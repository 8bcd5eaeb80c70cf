import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import type { Envelope, EnvelopeItem } from "./envelope";
import { parseEnvelope } from "./envelope";
import { fixtureBytes } from "./fixtures";
import {
  checkEnvelopeConstraints,
  checkEnvelopeLimits,
  findLimitViolation,
  MAX_ENVELOPE_BYTES,
  RELAY_LIMITS,
  SLUICE_LIMITS,
} from "./limits";

const item = (type: string, size: number, extra: Record<string, unknown> = {}): EnvelopeItem => ({
  headers: { type, ...extra },
  payload: new Uint8Array(size),
});
const env = (...items: EnvelopeItem[]): Envelope => ({ headers: {}, items });

function error(fn: () => void): ClientError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error("expected a ClientError");
}

describe("size limits", () => {
  it("has Relay's defaults, capped by the Sluice envelope cap", () => {
    expect(RELAY_LIMITS.maxEventSize).toBe(1024 * 1024);
    expect(RELAY_LIMITS.maxAttachmentsSize).toBe(200 * 1024 * 1024);
    expect(SLUICE_LIMITS.maxAttachmentsSize).toBe(MAX_ENVELOPE_BYTES);
    expect(SLUICE_LIMITS.maxAttachmentCount).toBe(30);
    expect(SLUICE_LIMITS.maxClientReportsSize).toBe(100 * 1024);
  });

  it("accepts every real SDK fixture", () => {
    for (const name of [
      "node-exception",
      "node-attachment",
      "node-large",
      "node-spans",
      "python-exception",
    ] as const) {
      const e = parseEnvelope(fixtureBytes(name));
      expect(() => checkEnvelopeLimits(e), name).not.toThrow();
      expect(() => checkEnvelopeConstraints(e), name).not.toThrow();
    }
  });

  it("rejects an oversized event with Relay's 413 message", () => {
    const err = error(() => checkEnvelopeLimits(env(item("event", 1024 * 1024 + 1))));
    expect(err.status).toBe(413);
    expect(err.message).toBe("envelope exceeded size limits for type 'event'");
    expect(() => checkEnvelopeLimits(env(item("event", 1024 * 1024)))).not.toThrow();
  });

  it("names attachments by attachment type, and counts them", () => {
    const many = Array.from({ length: 31 }, () => item("attachment", 1));
    expect(findLimitViolation(env(...many))).toBe("attachment:attachment");
    expect(findLimitViolation(env(...many.slice(0, 30)))).toBeNull();
    const big = item("attachment", 10, { attachment_type: "event.minidump" });
    expect(findLimitViolation(env(big), { ...SLUICE_LIMITS, maxAttachmentSize: 5 })).toBe(
      "attachment:minidump",
    );
  });

  it("shares one event slot between event, transaction and feedback (413 like Relay)", () => {
    expect(findLimitViolation(env(item("event", 10), item("transaction", 10)))).toBe("transaction");
    expect(findLimitViolation(env(item("transaction", 10), item("feedback", 10)))).toBe("user_report_v2");
  });

  it("checks containers on their average record size", () => {
    const ct = "application/vnd.sentry.items.log+json";
    const container = item("log", 3 * 1024 * 1024, { content_type: ct, item_count: 2 });
    expect(findLimitViolation(env(container))).toBeNull();
    expect(findLimitViolation(env({ ...container, headers: { ...container.headers, item_count: 1 } }))).toBe(
      "log",
    );
  });

  it("applies sessions, client report and check-in limits; ignores unknown items", () => {
    expect(findLimitViolation(env(...Array.from({ length: 101 }, () => item("session", 10))))).toBe(
      "session",
    );
    expect(findLimitViolation(env(item("client_report", 100 * 1024 + 1)))).toBe("client_report");
    expect(findLimitViolation(env(item("check_in", 10), item("check_in", 10)))).toBe("check_in");
    expect(findLimitViolation(env(item("brand_new", 50 * 1024 * 1024)))).toBeNull();
  });

  it("refuses a whole envelope above MAX_ENVELOPE_BYTES", () => {
    const err = error(() => checkEnvelopeLimits(env(item("brand_new", MAX_ENVELOPE_BYTES + 1))));
    expect(err.status).toBe(413);
  });
});

describe("envelope constraints", () => {
  it("allows one event with attachments, sessions and unknown items", () => {
    expect(() =>
      checkEnvelopeConstraints(
        env(item("event", 1), item("attachment", 1), item("session", 1), item("x", 1)),
      ),
    ).not.toThrow();
  });

  it("rejects two event-creating items with a 400 naming them", () => {
    const err = error(() => checkEnvelopeConstraints(env(item("event", 1), item("transaction", 1))));
    expect(err.status).toBe(400);
    expect(err.causes[0]).toMatch(/event, transaction/);
    expect(error(() => checkEnvelopeConstraints(env(item("event", 1), item("event", 1)))).status).toBe(400);
  });

  it("rejects duplicate singleton items and containers without item_count", () => {
    expect(
      error(() => checkEnvelopeConstraints(env(item("check_in", 1), item("check_in", 1)))).causes[0],
    ).toMatch(/check_in/);
    const ct = { content_type: "application/vnd.sentry.items.span.v2+json" };
    expect(error(() => checkEnvelopeConstraints(env(item("span", 1, ct)))).causes[0]).toMatch(/item_count/);
  });
});
