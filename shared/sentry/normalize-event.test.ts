import { describe, expect, it } from "vitest";
import type { ClientInfo } from "../event";
import { ClientError } from "../http/errors";
import { itemJson, parseEnvelope } from "./envelope";
import { type FixtureName, fixtureBytes } from "./fixtures";
import { type NormalizeContext, normalizeSentryEvent } from "./normalize-event";

const client: ClientInfo = { ip: "203.0.113.9", userAgent: "sdk", country: null, colo: null };
const RECEIVED = Date.UTC(2026, 0, 15, 12, 0, 0);
const ctx = (over: Partial<NormalizeContext> = {}): NormalizeContext => ({
  eventId: "9ec79c33ec9942ab8353589fcb2e04dc",
  projectId: "1",
  receivedAt: RECEIVED,
  client,
  sentAt: null,
  retentionDays: 90,
  category: "error",
  ...over,
});
const secs = (ms: number) => ms / 1000;

/** Normalizes the first event/transaction item of a real fixture, received 1 s after sending. */
function fromFixture(name: FixtureName, category: NormalizeContext["category"] = "error") {
  const env = parseEnvelope(fixtureBytes(name));
  const item = env.items.find((i) => i.headers.type === "event" || i.headers.type === "transaction")!;
  const sentAt = env.headers.sent_at as string;
  return normalizeSentryEvent(itemJson(item), {
    ...ctx({ category, sentAt }),
    eventId: env.headers.event_id as string,
    receivedAt: Date.parse(sentAt) + 1000,
  });
}

describe("real SDK events", () => {
  it("node exception: type Error, last frame is the throwing function, {{auto}} IP resolved", () => {
    const ev = fromFixture("node-exception");
    expect(ev.type).toBe("Error");
    expect(ev.message).toBe("config parse failed: unexpected brace in 6 chars");
    expect(ev.level).toBe("error");
    expect(ev.platform).toBe("node");
    const frames = ev.exceptions.at(-1)!.frames;
    expect(frames.at(-1)).toMatchObject({ function: "parseConfig", inApp: true });
    expect(frames.map((f) => f.function).slice(-3)).toEqual(["handleRequest", "loadSettings", "parseConfig"]);
    expect(frames[0]!.inApp).toBe(false);
    expect(ev.user).toMatchObject({ id: "u-42", email: "ada@example.com", ipAddress: "203.0.113.9" });
    expect(ev.tags).toMatchObject({ feature: "checkout", server_name: expect.any(String) });
    expect(ev.release).toBe("capture@1.0.0");
    expect(ev.environment).toBe("capture");
    expect(ev.breadcrumbs.some((b) => b.message === "user signed in" && b.level === "info")).toBe(true);
    expect(ev.sdk).toEqual({ name: "sentry.javascript.node", version: "11.12.0" });
    expect(ev.normalization).toBeUndefined();
  });

  it("node message: v11 sends a typeless exception; the message is the text", () => {
    const ev = fromFixture("node-message");
    expect(ev.level).toBe("warning");
    expect(ev.type).toBeNull();
    expect(ev.message).toBe("disk usage above 90% on /var");
  });

  it("python exception: class name and nested frames, innermost last", () => {
    const ev = fromFixture("python-exception");
    expect(ev.type).toBe("KeyError");
    expect(ev.message).toBe("'quota'");
    expect(ev.platform).toBe("python");
    expect(ev.exceptions.at(-1)!.frames.map((f) => f.function)).toEqual([
      "<module>",
      "checkout",
      "charge",
      "read_quota",
    ]);
    expect(ev.exceptions.at(-1)!.mechanism).toEqual({ type: "generic", handled: true });
  });

  it("node transaction: info level, start timestamp and child span kept", () => {
    const ev = fromFixture("node-transaction", "transaction");
    expect(ev.category).toBe("transaction");
    expect(ev.level).toBe("info");
    expect(ev.transaction).toBe("GET /checkout");
    expect(ev.message).toBe("GET /checkout");
    expect(ev.startTimestamp).toMatch(/^2\d{3}-/);
    expect(ev.spans).toHaveLength(1);
    expect(ev.spans![0]).toMatchObject({ description: "SELECT * FROM carts", op: "db.query" });
  });
});

describe("timestamps", () => {
  const t = secs(RECEIVED);

  it("accepts RFC 3339 strings (with offsets and microseconds) and unix floats", () => {
    expect(normalizeSentryEvent({ timestamp: t - 10.25 }, ctx()).occurredAt).toBe("2026-01-15T11:59:49.750Z");
    expect(normalizeSentryEvent({ timestamp: "2026-01-15T11:59:49.123456Z" }, ctx()).occurredAt).toBe(
      "2026-01-15T11:59:49.123Z",
    );
    expect(normalizeSentryEvent({ timestamp: "2026-01-15T13:59:00+02:00" }, ctx()).occurredAt).toBe(
      "2026-01-15T11:59:00.000Z",
    );
    expect(normalizeSentryEvent({ timestamp: "2026-01-15T11:59:00" }, ctx()).occurredAt).toBe(
      "2026-01-15T11:59:00.000Z",
    );
  });

  it("uses the receive time when the timestamp is missing or junk", () => {
    expect(normalizeSentryEvent({}, ctx()).occurredAt).toBe("2026-01-15T12:00:00.000Z");
    expect(normalizeSentryEvent({ timestamp: "yesterday" }, ctx()).occurredAt).toBe(
      "2026-01-15T12:00:00.000Z",
    );
    expect(normalizeSentryEvent({ timestamp: { a: 1 } }, ctx()).receivedAt).toBe("2026-01-15T12:00:00.000Z");
  });

  it("ignores drift below 55 minutes", () => {
    const ev = normalizeSentryEvent(
      { timestamp: t - 3000 },
      ctx({ sentAt: new Date(RECEIVED - 3000_000).toISOString() }),
    );
    expect(ev.occurredAt).toBe(new Date(RECEIVED - 3000_000).toISOString());
    expect(ev.normalization).toBeUndefined();
  });

  it("corrects drift ≥ 55 minutes on every timestamp, breadcrumbs and spans included", () => {
    const drift = 2 * 3600; // the SDK's clock is two hours behind
    const payload = {
      timestamp: t - drift - 5,
      start_timestamp: t - drift - 6,
      breadcrumbs: { values: [{ timestamp: t - drift - 7, message: "b" }] },
      spans: [{ span_id: "a", start_timestamp: t - drift - 6, timestamp: t - drift - 5.5 }],
    };
    const sentAt = new Date((t - drift) * 1000).toISOString();
    const ev = normalizeSentryEvent(payload, ctx({ sentAt, category: "transaction" }));
    expect(ev.occurredAt).toBe(new Date((t - 5) * 1000).toISOString());
    expect(ev.startTimestamp).toBe(new Date((t - 6) * 1000).toISOString());
    expect(ev.breadcrumbs[0]!.timestamp).toBe(new Date((t - 7) * 1000).toISOString());
    expect(ev.spans![0]).toMatchObject({ start_timestamp: t - 6, timestamp: t - 5.5 });
    expect(ev.normalization?.clock_drift).toMatchObject({ drift_seconds: drift });
  });

  it("clamps future and too-old timestamps to the receive time, shifting the whole event", () => {
    const future = normalizeSentryEvent(
      { timestamp: t + 3600, breadcrumbs: [{ timestamp: t + 3590 }] },
      ctx({ sentAt: new Date(RECEIVED).toISOString() }),
    );
    expect(future.occurredAt).toBe("2026-01-15T12:00:00.000Z");
    expect(future.breadcrumbs[0]!.timestamp).toBe("2026-01-15T11:59:50.000Z");
    expect(future.normalization?.timestamp_error).toMatchObject({ type: "future_timestamp" });
    expect(normalizeSentryEvent({ timestamp: t + 59 }, ctx()).normalization).toBeUndefined();

    const past = normalizeSentryEvent({ timestamp: t - 91 * 86400 }, ctx());
    expect(past.occurredAt).toBe("2026-01-15T12:00:00.000Z");
    expect(past.normalization?.timestamp_error).toMatchObject({ type: "past_timestamp" });
    expect(normalizeSentryEvent({ timestamp: t - 89 * 86400 }, ctx()).normalization).toBeUndefined();
  });
});

describe("fields", () => {
  it("throws 400 only for a payload that is not an object", () => {
    for (const bad of [null, [], "x", 42]) {
      expect(() => normalizeSentryEvent(bad, ctx())).toThrow(ClientError);
    }
    const odd = {
      level: 7,
      tags: "x",
      user: "bob",
      request: [],
      breadcrumbs: 5,
      exception: "boom",
      fingerprint: "fp",
      contexts: [],
      extra: null,
      sdk: 1,
      platform: {},
    };
    const ev = normalizeSentryEvent(odd, ctx());
    expect(ev).toMatchObject({ level: "error", tags: {}, user: null, platform: "other", fingerprint: null });
    expect(ev.message).toBe("<unlabeled event>");
  });

  it("fills the client IP for {{auto}} in request.env.REMOTE_ADDR and for browser platforms", () => {
    expect(
      normalizeSentryEvent({ request: { env: { REMOTE_ADDR: "{{auto}}" } } }, ctx()).user?.ipAddress,
    ).toBe("203.0.113.9");
    expect(normalizeSentryEvent({ platform: "javascript" }, ctx()).user?.ipAddress).toBe("203.0.113.9");
    expect(normalizeSentryEvent({ platform: "python" }, ctx()).user).toBeNull();
    expect(normalizeSentryEvent({ user: { ip_address: "10.0.0.1" } }, ctx()).user?.ipAddress).toBe(
      "10.0.0.1",
    );
    const noClient = ctx({ client: { ...client, ip: null } });
    expect(normalizeSentryEvent({ user: { ip_address: "{{auto}}" } }, noClient).user?.ipAddress).toBeNull();
  });

  it("normalizes tags: pairs or map, trimmed, reserved stripped, environment hoisted", () => {
    const ev = normalizeSentryEvent(
      {
        tags: [
          ["a", "1"],
          ["a", "2"],
          ["release", "x"],
          ["user", "u"],
          ["environment", "staging"],
          ["n", 5],
          ["k".repeat(300), "v".repeat(300)],
        ],
      },
      ctx(),
    );
    expect(ev.environment).toBe("staging");
    expect(ev.tags.a).toBe("1");
    expect(ev.tags.n).toBe("5");
    expect(ev.tags).not.toHaveProperty("release");
    expect(ev.tags).not.toHaveProperty("user");
    const long = Object.entries(ev.tags).find(([k]) => k.startsWith("kkk"))!;
    expect(long[0]).toHaveLength(200);
    expect(long[1]).toHaveLength(200);
    expect(normalizeSentryEvent({ tags: { environment: "x" }, environment: "prod" }, ctx()).environment).toBe(
      "prod",
    );
    expect(normalizeSentryEvent({ environment: "e".repeat(100) }, ctx()).environment).toHaveLength(64);
  });

  it("reads message from message/logentry and trims it to 8192", () => {
    expect(normalizeSentryEvent({ message: "hi" }, ctx()).message).toBe("hi");
    expect(normalizeSentryEvent({ message: { formatted: "f", message: "m %s" } }, ctx()).message).toBe("f");
    expect(normalizeSentryEvent({ logentry: { message: "tmpl %s", params: [1] } }, ctx()).message).toBe(
      "tmpl %s",
    );
    expect(normalizeSentryEvent({ message: "x".repeat(9000) }, ctx()).message).toHaveLength(8192);
  });

  it("splits 'Type: msg', drops empty exceptions, keeps chains oldest → newest", () => {
    const ev = normalizeSentryEvent(
      {
        exception: {
          values: [
            { type: "IOError", value: "disk" },
            { value: "ValueError: bad input" },
            { mechanism: { type: "x" } },
          ],
        },
      },
      ctx(),
    );
    expect(ev.exceptions.map((e) => [e.type, e.value])).toEqual([
      ["IOError", "disk"],
      ["ValueError", "bad input"],
    ]);
    expect(ev.type).toBe("ValueError");
    expect(ev.message).toBe("bad input");
  });

  it("lets a lone exception absorb the top-level stacktrace; accepts a legacy array", () => {
    const ev = normalizeSentryEvent(
      { exception: [{ type: "E" }], stacktrace: { frames: [{ function: "main" }, { function: "?" }] } },
      ctx(),
    );
    expect(ev.exceptions[0]!.frames.map((f) => f.function)).toEqual(["main", null]);
  });

  it("infers in_app only when no frame sets it", () => {
    const frames = [
      { filename: "node:internal/x" },
      { abs_path: "/app/node_modules/lib/index.js" },
      { filename: "/usr/lib/python3.11/json.py" },
      { filename: "/venv/lib/site-packages/requests/api.py" },
      { filename: "internal/process/task_queues" },
      { filename: "/app/src/server.js", lineno: 12.0, colno: "3" },
    ];
    const ev = normalizeSentryEvent(
      { exception: { values: [{ type: "E", stacktrace: { frames } }] } },
      ctx(),
    );
    const f = ev.exceptions[0]!.frames;
    expect(f.map((x) => x.inApp)).toEqual([false, false, false, false, false, true]);
    expect(f.at(-1)).toMatchObject({ lineno: 12, colno: null });
    const explicit = normalizeSentryEvent(
      {
        exception: { values: [{ type: "E", stacktrace: { frames: [{ in_app: true }, { filename: "x" }] } }] },
      },
      ctx(),
    );
    expect(explicit.exceptions[0]!.frames.map((x) => x.inApp)).toEqual([true, null]);
  });

  it("trims stack traces beyond 250 frames from the middle", () => {
    const frames = Array.from({ length: 300 }, (_, i) => ({ function: `f${i}` }));
    const ev = normalizeSentryEvent(
      { exception: { values: [{ type: "E", stacktrace: { frames } }] } },
      ctx(),
    );
    const fns = ev.exceptions[0]!.frames.map((f) => f.function);
    expect(fns).toHaveLength(250);
    expect(fns[0]).toBe("f0");
    expect(fns.at(-1)).toBe("f299");
    expect(ev.normalization?.frames_omitted).toBe(50);
  });

  it("maps user, request (pairs), breadcrumbs, fingerprint, contexts and extra", () => {
    const ev = normalizeSentryEvent(
      {
        user: { id: 42, email: "a@b.c", username: "ann", segment: "pro" },
        request: {
          url: "https://x/y",
          method: "post",
          headers: [["Content-Type", "text/plain"]],
          query_string: "?a=1",
          data: { q: 1 },
          cookies: [["sid", "1"]],
        },
        breadcrumbs: [{ category: "ui", level: "warn", data: { x: 1 } }],
        fingerprint: ["{{ default }}", 7, null],
        contexts: { os: { name: "Linux" } },
        extra: { k: "v" },
        sdk: { name: "s", version: "1" },
        dist: "d1",
        logger: "root",
      },
      ctx(),
    );
    expect(ev.user).toEqual({ id: "42", email: "a@b.c", username: "ann", segment: "pro" });
    expect(ev.request).toEqual({
      url: "https://x/y",
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      query: "a=1",
      data: { q: 1 },
      cookies: { sid: "1" },
    });
    expect(ev.breadcrumbs).toEqual([
      { timestamp: null, type: null, category: "ui", message: null, level: "warning", data: { x: 1 } },
    ]);
    expect(ev.fingerprint).toEqual(["{{ default }}", "7"]);
    expect(ev.contexts).toEqual({ os: { name: "Linux" } });
    expect(ev.extra).toEqual({ k: "v" });
    expect(ev.tags).toMatchObject({ dist: "d1", logger: "root" });
  });
});

describe("user keys", () => {
  it("keeps a `__proto__` key as data, never as the user's prototype", () => {
    const payload = JSON.parse(
      '{"user": {"id": "1", "__proto__": {"email": "x@evil.example", "admin": true}}}',
    );
    const user = normalizeSentryEvent(payload, ctx()).user as Record<string, unknown>;
    expect(Object.getPrototypeOf(user)).toBe(Object.prototype);
    expect(user.admin).toBeUndefined();
    expect(user.email).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(user, "__proto__")?.value).toEqual({
      email: "x@evil.example",
      admin: true,
    });
    expect(user.id).toBe("1");
  });
});
