// Raygun protocol at the edge, in workerd against real local Queues/D1/R2: every status path,
// bulk, RUM, CORS, case-insensitive keys and auth carriers, and the report read back via the API.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../../shared/queue-codec";
import { api, call, createTestProject, type TestProject, waitFor } from "../../../test/helpers";
import { app } from "../app";
import jsReport from "./fixtures/raygun4js-shaped-pascalcase.json";
import nodeReport from "./fixtures/raygun4node-2.2.8-error.json";

let project: TestProject;
beforeAll(async () => {
  project = await createTestProject("raygun");
});

const post = (path: string, body: BodyInit | null, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", body, headers: { "x-apikey": project.key, ...headers } });

const report = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ ...nodeReport, occurredOn: new Date().toISOString(), ...overrides });

describe("POST /entries", () => {
  it("accepts a real raygun4node report with exactly 202 and an empty body", async () => {
    const res = await post("/entries", report(), { "content-type": "application/json" });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("ignores Content-Type and accepts a trailing slash", async () => {
    for (const ct of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""]) {
      const res = await post("/entries/", report(), ct ? { "content-type": ct } : {});
      expect(res.status).toBe(202);
    }
  });

  it("authenticates with ?apikey= in any case", async () => {
    for (const name of ["apikey", "apiKey", "APIKEY"]) {
      const res = await call(`/entries?${name}=${project.key}`, { method: "POST", body: report() });
      expect(res.status).toBe(202);
    }
  });

  it("answers 403 for a missing, malformed or unknown key", async () => {
    expect((await call("/entries", { method: "POST", body: report() })).status).toBe(403);
    expect((await post("/entries", report(), { "x-apikey": "nope" })).status).toBe(403);
    const unknown = await post("/entries", report(), { "x-apikey": "f".repeat(32) });
    expect(unknown.status).toBe(403);
    expect(await unknown.text()).toMatch(/invalid API key/);
  });

  it.each([
    ["{not json", /not valid JSON/],
    ["[]", /must be a JSON object/],
    [JSON.stringify({ details: {} }), /occurredOn/],
    [JSON.stringify({ occurredOn: "yesterday", details: {} }), /occurredOn is not an ISO-8601/],
    [JSON.stringify({ occurredOn: "2026-01-01T00:00:00Z" }), /details/],
    [JSON.stringify({ occurredOn: "2026-01-01T00:00:00Z", details: "x" }), /details/],
  ])("answers 400 with a message for %s", async (body, message) => {
    const res = await post("/entries", body);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(message);
  });

  it("answers 400 for invalid UTF-8", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const res = await post("/entries", bytes);
    expect(res.status).toBe(400);
  });

  it("answers 413 over 128 KB, from Content-Length and while streaming", async () => {
    const big = report({
      details: { ...nodeReport.details, userCustomData: { pad: "x".repeat(130 * 1024) } },
    });
    const declared = await post("/entries", big);
    expect(declared.status).toBe(413);
    // A streamed body has no Content-Length: the limit is enforced while counting bytes.
    const stream = new Blob([big]).stream();
    const streamed = await call("/entries", {
      method: "POST",
      body: stream,
      headers: { "x-apikey": project.key },
      // @ts-expect-error workerd needs duplex for streamed request bodies
      duplex: "half",
    });
    expect(streamed.status).toBe(413);
  });

  it("accepts gzip bodies and rejects a corrupt gzip stream with 400", async () => {
    const gz = await new Response(
      new Blob([report()]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    expect((await post("/entries", gz, { "content-encoding": "gzip" })).status).toBe(202);
    expect(
      (await post("/entries", new Uint8Array([1, 2, 3, 4]), { "content-encoding": "gzip" })).status,
    ).toBe(400);
  });

  it("answers CORS preflight with the Raygun headers allowed", async () => {
    const res = await call("/entries", {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-apikey, x-remote-address",
      },
    });
    expect([200, 204]).toContain(res.status);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    expect(allowed).toContain("x-apikey");
    expect(allowed).toContain("x-remote-address");
  });
});

describe("POST /entries/bulk", () => {
  it("accepts an array of reports with one 202", async () => {
    const res = await post("/entries/bulk", `[${report()},${report()},${report()}]`);
    expect(res.status).toBe(202);
  });
  it("rejects more than 100 reports, an empty array, a non-array and an invalid element", async () => {
    const many = `[${Array.from({ length: 101 }, () => report()).join(",")}]`;
    expect((await post("/entries/bulk", many)).status).toBe(400);
    expect((await post("/entries/bulk", "[]")).status).toBe(400);
    expect((await post("/entries/bulk", report())).status).toBe(400);
    const bad = await post("/entries/bulk", `[${report()},{"details":{}}]`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/reports\[1\]/);
  });

  it("queues each report as sent; the 128 KB limit counts a report's compact form, not its whitespace", async () => {
    const p = await createTestProject("bulk-as-sent");
    const keys = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i]));
    const roomy = {
      ...nodeReport,
      occurredOn: new Date().toISOString(),
      details: { ...nodeReport.details, userCustomData: { pad: "y".repeat(90 * 1024), ...keys } },
    };
    const compact = new TextEncoder().encode(JSON.stringify(roomy)).byteLength;
    const pretty = JSON.stringify(roomy, null, 40);
    expect(compact).toBeLessThanOrEqual(128 * 1024);
    expect(new TextEncoder().encode(pretty).byteLength).toBeGreaterThan(128 * 1024);
    const ok = await call(`/entries/bulk?apikey=${p.key}`, {
      method: "POST",
      body: `[\n${pretty} ,\n${report()}]`,
    });
    expect(ok.status).toBe(202);
    const events = await waitFor(async () => {
      const r = await api<{ hits: { eventId: string }[] }>(`/api/v1/projects/${p.id}/search?q=`);
      return r.body.hits.length === 2 ? r.body.hits : null;
    });
    const details = await Promise.all(
      events.map((e) =>
        api<{ raw: { details: { userCustomData?: Record<string, unknown> } } }>(
          `/api/v1/projects/${p.id}/events/${e.eventId}`,
        ),
      ),
    );
    const stored = details.map((d) => d.body.raw.details.userCustomData).find((u) => u?.pad);
    expect(stored).toEqual(roomy.details.userCustomData);

    const tooBig = { ...roomy, details: { ...roomy.details, more: "z".repeat(40 * 1024) } };
    const size = new TextEncoder().encode(JSON.stringify(tooBig)).byteLength;
    const refused = await call(`/entries/bulk?apikey=${p.key}`, {
      method: "POST",
      body: `[${report()}, ${JSON.stringify(tooBig)}]`,
    });
    expect(refused.status).toBe(413);
    expect(await refused.text()).toBe(`reports[1] is ${size} bytes; at most ${128 * 1024}`);
  });
});

describe("POST /events (RUM)", () => {
  const rum = (n = 2) =>
    JSON.stringify({
      eventData: Array.from({ length: n }, (_, i) => ({
        sessionId: "s".repeat(32),
        timestamp: new Date().toISOString(),
        type: i === 0 ? "session_start" : "web_request_timing",
        user: { Identifier: "u1", IsAnonymous: true },
        version: "2.8.0",
        device: "Mozilla/5.0",
        data: JSON.stringify([
          { url: "https://shop.example/cart?x=1", timing: { t: "p", du: "812.40", a: 0 } },
        ]),
      })),
    });
  it("accepts eventData with 202", async () => {
    expect((await post("/events", rum())).status).toBe(202);
  });
  it("accepts PascalCase EventData", async () => {
    const body = rum().replace('"eventData"', '"EventData"');
    expect((await post("/events", body)).status).toBe(202);
  });
  it("queues each page view as the client sent it, not serialised again", async () => {
    const sent: string[] = [];
    const capture = {
      send: async (body: string) => void sent.push(body),
      sendBatch: async (batch: { body: string }[]) => void sent.push(...batch.map((m) => m.body)),
    };
    const views = [
      `{ "sessionId" : "${"s".repeat(32)}", "type": "load",\n  "timestamp": "${new Date().toISOString()}", "n": 1.50 }`,
      `{"sessionId":"${"t".repeat(32)}","type":"web_request_timing","url":"https://shop.example/\\u00e9?q=\\"]}"}`,
    ];
    const body = `{ "eventData": "shadowed", "EventData" : [\n ${views[0]} ,\n\t${views[1]} ] , "eventData" : [ ${views.join(" , ")} ] }`;
    const res = await app.fetch(
      new Request("https://edge.test/events", { method: "POST", headers: { "x-apikey": project.key }, body }),
      { ...env, Q_RUM_0: capture },
      { waitUntil() {}, passThroughOnException() {}, props: {} },
    );
    expect(res.status).toBe(202);
    const items = sent.flatMap((m) => decodeMessage(m).items);
    expect(items.map((i) => i.payload)).toEqual(views);
    expect(items.map((i) => i.size)).toEqual(views.map((v) => new TextEncoder().encode(v).byteLength));
    expect(items.map((i) => i.meta?.rumType)).toEqual(["load", "web_request_timing"]);
  });
  it("rejects a body without eventData or with a bad item", async () => {
    expect((await post("/events", "{}")).status).toBe(400);
    expect((await post("/events", JSON.stringify({ eventData: [{ type: "session_start" }] }))).status).toBe(
      400,
    );
  });
});

describe("the spine: report → queue → processor → D1/R2 → API", () => {
  it("stores a PascalCase raygun4js-shaped report sent as text/plain and shows its group and event", async () => {
    const p = await createTestProject("spine-js");
    const body = JSON.stringify({ ...jsReport, OccurredOn: new Date().toISOString() });
    const res = await call(`/entries?apikey=${p.key}`, {
      method: "POST",
      body,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    expect(res.status).toBe(202);
    const groups = await waitFor(async () => {
      const r = await api<{ groups: { id: string; type: string; message: string; count: number }[] }>(
        `/api/v1/projects/${p.id}/groups`,
      );
      return r.body.groups.length > 0 ? r.body.groups : null;
    });
    expect(groups[0]).toMatchObject({
      type: "ReferenceError",
      message: "basketTotal is not defined",
      count: 1,
    });
    // The group's event list comes from the event index, written by the indexer after the group.
    const events = await waitFor(async () => {
      const r = await api<{ events: { id: string }[] }>(
        `/api/v1/projects/${p.id}/groups/${groups[0]!.id}/events`,
      );
      return r.body.events.length > 0 ? r : null;
    });
    expect(events.body.events).toHaveLength(1);
    const detail = await api<{
      event: { exceptions: { frames: { function: string; lineno: number }[] }[]; release: string };
      raw: typeof jsReport;
    }>(`/api/v1/projects/${p.id}/events/${events.body.events[0]!.id}`);
    expect(detail.status).toBe(200);
    const frames = detail.body.event.exceptions[0]!.frames;
    expect(frames[frames.length - 1]).toMatchObject({ function: "computeTotal", lineno: 118 });
    expect(detail.body.event.release).toBe("2.8.0");
    expect(detail.body.raw.Details.Error.Message).toBe("basketTotal is not defined");
  });

  it("groups the same error thrown twice, and separates a different one", async () => {
    const p = await createTestProject("spine-group");
    const send = (r: unknown) =>
      call(`/entries?apikey=${p.key}`, { method: "POST", body: JSON.stringify(r) });
    const base = { ...nodeReport, occurredOn: new Date().toISOString() };
    // Same stack, different line numbers and order id in the message → same group.
    const shifted = structuredClone(base);
    shifted.details.error.stackTrace[0]!.lineNumber = 99;
    shifted.details.error.message = "Cannot read properties of undefined (reading 'total') in order 4712";
    const other = structuredClone(base);
    other.details.error.className = "RangeError";
    other.details.error.stackTrace[0]!.methodName = "refund";
    for (const r of [base, shifted, other]) expect((await send(r)).status).toBe(202);
    const groups = await waitFor(async () => {
      const r = await api<{ groups: { type: string; count: number }[] }>(`/api/v1/projects/${p.id}/groups`);
      const total = r.body.groups.reduce((n, g) => n + g.count, 0);
      return total === 3 ? r.body.groups : null;
    });
    expect(groups.map((g) => [g.type, g.count]).sort()).toEqual([
      ["RangeError", 1],
      ["TypeError", 2],
    ]);
  });

  it("claim-checks a 120 KB bulk element through R2 and still stores it", async () => {
    const p = await createTestProject("spine-claim");
    const big = {
      ...nodeReport,
      occurredOn: new Date().toISOString(),
      details: { ...nodeReport.details, userCustomData: { pad: "y".repeat(120 * 1024) } },
    };
    const res = await call(`/entries/bulk?apikey=${p.key}`, { method: "POST", body: JSON.stringify([big]) });
    expect(res.status).toBe(202);
    const groups = await waitFor(async () => {
      const r = await api<{ groups: { id: string; count: number }[] }>(`/api/v1/projects/${p.id}/groups`);
      return r.body.groups[0]?.count === 1 ? r.body.groups : null;
    });
    // The group's event list comes from the event index, written by the indexer after the group.
    const events = await waitFor(async () => {
      const r = await api<{ events: { id: string }[] }>(
        `/api/v1/projects/${p.id}/groups/${groups[0]!.id}/events`,
      );
      return r.body.events.length > 0 ? r : null;
    });
    const detail = await api<{ raw: { details: { userCustomData: { pad: string } } } }>(
      `/api/v1/projects/${p.id}/events/${events.body.events[0]!.id}`,
    );
    expect(detail.body.raw.details.userCustomData.pad).toHaveLength(120 * 1024);
  });
});

describe("GET /healthz", () => {
  it("is alive", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
  });
});

describe("group commit", () => {
  it("concurrent requests are all accepted and all stored", async () => {
    const p = await createTestProject("concurrent");
    const bodies = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        ...nodeReport,
        occurredOn: new Date().toISOString(),
        details: { ...nodeReport.details, groupingKey: `g${i % 4}` },
      }),
    );
    const statuses = await Promise.all(
      bodies.map((body) => call(`/entries?apikey=${p.key}`, { method: "POST", body }).then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    const groups = await waitFor(async () => {
      const r = await api<{ groups: { count: number }[] }>(`/api/v1/projects/${p.id}/groups`);
      return r.body.groups.reduce((n, g) => n + g.count, 0) === 40 ? r.body.groups : null;
    });
    expect(groups.map((g) => g.count)).toEqual([10, 10, 10, 10]);
  });
});
