// Payloads captured from the real SDKs by the compatibility suite (test/compat, written with
// SLUICE_COMPAT_CAPTURE=1): each normalizes to frames in caller → callee order whose last in-app frame
// raised the error, and that frame is the group's culprit.
import { describe, expect, it } from "vitest";
import type { CanonicalEvent } from "../event";
import raygun4js from "../raygun/fixtures/compat/raygun4js.json";
import raygun4node from "../raygun/fixtures/compat/raygun4node.json";
import raygun4py from "../raygun/fixtures/compat/raygun4py.json";
import { normalizeRaygunReport } from "../raygun/normalize";
import sentryBrowser from "../sentry/fixtures/compat/sentry-browser.json";
import sentryGo from "../sentry/fixtures/compat/sentry-go.json";
import sentryJava from "../sentry/fixtures/compat/sentry-java.json";
import sentryNode from "../sentry/fixtures/compat/sentry-node.json";
import sentryPython from "../sentry/fixtures/compat/sentry-python.json";
import { normalizeSentryEvent } from "../sentry/normalize-event";
import { computeFingerprint } from "./fingerprint";

const client = { ip: "127.0.0.1", userAgent: null, country: null, colo: null };

function sentry(payload: unknown): CanonicalEvent {
  return normalizeSentryEvent(payload, {
    eventId: "e".repeat(32),
    projectId: "1",
    receivedAt: Date.now(),
    client,
    retentionDays: 90,
    category: "error",
  });
}

function raygun(payload: unknown): CanonicalEvent {
  return normalizeRaygunReport(payload, {
    eventId: "e".repeat(32),
    projectId: "1",
    receivedAt: Date.now(),
    client,
  });
}

const cases: [string, () => CanonicalEvent, string, string][] = [
  ["@sentry/node", () => sentry(sentryNode), "parsePort", "loadConfig"],
  ["@sentry/browser", () => sentry(sentryBrowser), "parsePort", "loadConfig"],
  ["Python sentry-sdk", () => sentry(sentryPython), "parse_port", "load_config"],
  ["sentry-go", () => sentry(sentryGo), "parsePort", "loadConfig"],
  ["sentry-java", () => sentry(sentryJava), "parsePort", "loadConfig"],
  ["raygun4node", () => raygun(raygun4node), "parsePort", "loadConfig"],
  ["raygun4js", () => raygun(raygun4js), "parsePort", "loadConfig"],
  ["raygun4py", () => raygun(raygun4py), "parse_port", "load_config"],
];

describe("frames of payloads captured from real SDKs", () => {
  it.each(cases)(
    "%s: the raising function is the last in-app frame and the culprit",
    async (_sdk, load, raised, caller) => {
      const event = load();
      const frames = event.exceptions.at(-1)!.frames;
      const inApp = frames.filter((f) => f.inApp === true).map((f) => f.function?.replace(/^.*\./, ""));
      expect(inApp.slice(-2)).toEqual([caller, raised]);
      const { culprit } = await computeFingerprint(event);
      expect(culprit?.split(" ")[0]?.replace(/^.*\./, "")).toBe(raised);
    },
  );

  it("sentry-java: JDK frames are system frames and stay out of grouping", async () => {
    const event = sentry(sentryJava);
    const frames = event.exceptions.at(-1)!.frames;
    expect(frames.at(-1)).toMatchObject({ module: "java.lang.NumberFormatException", inApp: false });
    const { components } = await computeFingerprint(event);
    expect(components.filter((c) => c.startsWith("frame:"))).toEqual([
      "frame:Check:main",
      "frame:Check:loadConfig",
      "frame:Check:parsePort",
    ]);
  });

  it("raygun4py: frames stay in the SDK's caller-first order (the raising frame last)", () => {
    const frames = raygun(raygun4py).exceptions.at(-1)!.frames;
    expect(frames.map((f) => f.function)).toEqual(["main", "load_config", "parse_port"]);
  });

  it("a Raygun client that does not name itself is ordered by its frames", () => {
    const anonymous = structuredClone(raygun4py) as { details: { client?: unknown } };
    delete anonymous.details.client;
    const frames = raygun(anonymous).exceptions.at(-1)!.frames;
    // Without the client name the Python-specific field mapping is off, but the order is still Python's.
    expect(frames.at(-1)!.filename).toBe(frames[0]!.filename);
    expect(frames.at(-1)!.lineno).toBeLessThan(frames[0]!.lineno!);
  });
});
