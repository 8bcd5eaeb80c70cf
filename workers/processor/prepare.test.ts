// Preparing an item (scrub, normalization, grouping) is linear in its payload:
// every pathological shape of test/linear-time.ts, placed in every text field a Sentry
// event or a Raygun report has, costs at most 15× the time at 10× the size.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import { normalizeStored } from "../../shared/normalize";
import { FILTERED } from "../../shared/policy/scrub";
import type { IngestItem } from "../../shared/queue-message";
import { measureGrowth, PATHOLOGICAL } from "../../test/linear-time";
import { prepareItem } from "./prepare";

/** ~2 KB per field at 1× (a payload of ~10 KB), ~100 KB at 10×. */
const UNIT = 500;

function sentryEvent(s: string): unknown {
  return {
    event_id: "a".repeat(32),
    message: s,
    exception: {
      values: [
        { type: "Error", value: s, stacktrace: { frames: [{ filename: s, function: s, abs_path: s }] } },
      ],
    },
    request: { url: s, headers: { "User-Agent": s, Cookie: s } },
    tags: { note: s },
  };
}

function raygunReport(s: string): unknown {
  return {
    occurredOn: new Date().toISOString(),
    details: {
      error: { message: s, className: s, stackTrace: [{ fileName: s, methodName: s, className: s }] },
      request: { url: s, headers: { "User-Agent": s }, form: { note: s } },
      userCustomData: { note: s },
    },
  };
}

const item = (protocol: "sentry" | "raygun", payload: string): IngestItem => ({
  protocol,
  category: "error",
  itemType: protocol === "sentry" ? "event" : "entry",
  projectId: "1",
  eventId: newEventId(),
  receivedAt: Date.now(),
  client: { ip: "203.0.113.9", userAgent: null, country: null, colo: null },
  payload,
  size: payload.length,
});

describe("prepareItem is linear in its payload", () => {
  for (const [protocol, build] of [
    ["sentry", sentryEvent],
    ["raygun", raygunReport],
  ] as const) {
    it.each(Object.keys(PATHOLOGICAL))(`${protocol}: %s`, async (shape) => {
      const make = PATHOLOGICAL[shape]!;
      const [small, large] = [UNIT, 10 * UNIT].map((n) => item(protocol, JSON.stringify(build(make(n)))));
      const g = await measureGrowth((i: IngestItem) => prepareItem(i, env), small!, large!);
      expect(g.ratio, `${shape}: ${g.small.toFixed(1)} ms → ${g.large.toFixed(1)} ms`).toBeLessThanOrEqual(
        15,
      );
    });
  }
});

describe("prepareItem scrubs what only the structure shows", () => {
  // A secret under a key name that sits in a value ({name, value} records, [name, value] pairs)
  // or in JSON escaped inside a string: no text-level look at the payload can tell these apart.
  const cases: [string, "sentry" | "raygun", unknown][] = [
    [
      "a Raygun {name, value} form record",
      "raygun",
      raygunWith({ form: [{ name: "password", value: "hunter2" }] }),
    ],
    [
      "a Sentry [name, value] header pair",
      "sentry",
      { message: "m", request: { headers: [["X-Api-Key", "hunter2"]] } },
    ],
    ["JSON escaped inside a string", "sentry", { message: "m", extra: { body: '{"password":"hunter2"}' } }],
  ];
  it.each(cases)("%s", async (_name, protocol, payload) => {
    const p = await prepareItem(item(protocol, JSON.stringify(payload)), env);
    const stored = String(p.payload);
    expect(stored).not.toContain("hunter2");
    expect(stored).toContain(FILTERED);
    expect(JSON.stringify(p.event)).not.toContain("hunter2");
  });

  it("stores a payload with nothing to scrub as received, byte for byte", async () => {
    const text = JSON.stringify(
      raygunWith({ url: "https://shop.example/checkout?id=1", headers: { Accept: "*/*" } }),
    );
    const p = await prepareItem(item("raygun", `${text}  `), env);
    expect(p.payload).toBe(`${text}  `);
  });
});

describe("prepareItem's event is a summary of the stored payload", () => {
  // A batch holds every item's prepared event until its writes are done: the parts only the event
  // detail shows stay in the stored payload (the console rebuilds them from it), not in memory.
  it.each([
    ["raygun", { ...(raygunWith({ url: "https://shop.example/a", form: { q: "x" } }) as object) }],
    ["sentry", { message: "m", request: { url: "https://shop.example/a" }, contexts: { os: { name: "L" } } }],
  ] as const)("%s", async (protocol, base) => {
    const payload = protocol === "raygun" ? withCustomData(base) : { ...base, extra: { cart: CART } };
    const i = item(protocol, JSON.stringify(payload));
    const p = await prepareItem(i, env);
    const full = normalizeStored(i, String(p.payload))!;
    expect(JSON.stringify(full.extra)).toContain("SKU-41");
    expect(full.request?.url).toBe("https://shop.example/a");
    expect(p.event!.extra).toEqual({});
    expect(p.event!.request).toBeNull();
    expect(p.event!.contexts).toEqual({});
    expect(p.event!.breadcrumbs).toEqual([]);
    // What grouping, the group rows, alerts and the search document read is kept as normalized.
    for (const k of [
      "eventId",
      "message",
      "type",
      "level",
      "platform",
      "release",
      "occurredAt",
      "user",
      "tags",
    ] as const)
      expect(p.event![k]).toEqual(full[k]);
    expect(p.event!.exceptions).toEqual(full.exceptions);
    expect(p.grouping!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });
});

const CART = Array.from({ length: 50 }, (_, n) => ({ sku: `SKU-${n}`, qty: 1 }));

function withCustomData(report: { details?: object }): unknown {
  return { ...report, details: { ...report.details, userCustomData: { cart: CART } } };
}

function raygunWith(request: Record<string, unknown>): unknown {
  return {
    occurredOn: "2026-11-30T09:00:00Z",
    details: { error: { message: "boom", className: "Error", stackTrace: [] }, request },
  };
}

describe("prepareItem with scrubbing off", () => {
  // Nothing to scrub still means a capped depth: normalization stringifies a header value or an
  // exception value. Node's V8 overflows its stack there from ~10,000 levels; today's workerd does
  // not (it passed at 400,000 before the cap), so this guards the whole path against the engine.
  const OFF = {
    scrubbing: { defaults: false, scrubIpAddresses: false, sensitiveFields: [] },
    retentionDays: 90,
  };
  const deep = () => JSON.parse(`${"[".repeat(60_000)}1${"]".repeat(60_000)}`);
  it.each([
    ["a Raygun header value", "raygun", raygunWith({ headers: { "X-Deep": deep() } })],
    ["a Sentry exception value", "sentry", { exception: { values: [{ type: "E", value: deep() }] } }],
  ] as const)("stores and normalizes %s nested 60,000 levels deep", async (_name, protocol, payload) => {
    const i = { ...item(protocol, JSON.stringify(payload)), policy: OFF };
    const p = await prepareItem(i, env);
    expect(p.grouping!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    // The console rebuilds the event from the stored payload: that must work too.
    expect(() => normalizeStored(i, String(p.payload))).not.toThrow();
  });
});
