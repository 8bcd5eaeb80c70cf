// Edge policy end to end in workerd (edge → real queues → processor → D1/R2/FTS): settings set
// through the API take effect; each inbound filter drops with its outcome; sampling keeps or drops
// whole traces; a quota turns the 6th request of a minute into 429 with the right headers; spike
// protection limits against a synthetic history; PII never reaches R2, D1 or the search index; and
// the outcomes add up to what was sent.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseRateLimits } from "../../shared/sentry/rate-limits";
import { api, call, createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";

type Totals = { category: string; outcome: string; reason: string; quantity: number }[];

async function configure(p: TestProject, settings: Record<string, unknown>) {
  const r = await api(`/api/v1/projects/${p.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify(settings),
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function totalsWhen(p: TestProject, done: (t: Totals) => boolean): Promise<Totals> {
  return waitFor(async () => {
    const r = await api<{ totals: Totals }>(`/api/v1/projects/${p.id}/stats`);
    return done(r.body.totals) ? r.body.totals : null;
  });
}
const sum = (t: Totals, outcome?: string) =>
  t.filter((x) => !outcome || x.outcome === outcome).reduce((n, x) => n + x.quantity, 0);

function raygun(
  message: string,
  opts: {
    version?: string;
    url?: string;
    file?: string;
    className?: string;
    form?: Record<string, string>;
  } = {},
) {
  return JSON.stringify({
    occurredOn: new Date().toISOString(),
    details: {
      version: opts.version ?? "2.0.0",
      error: {
        className: opts.className ?? "Error",
        message,
        stackTrace: [
          { lineNumber: 10, methodName: "run", fileName: opts.file ?? "https://shop.example/app.js" },
        ],
      },
      request: { url: opts.url ?? "https://shop.example/cart", httpMethod: "POST", form: opts.form ?? {} },
    },
  });
}

/** Waits out the last seconds of a minute, so that a per-minute test runs inside one minute. */
async function awayFromMinuteEnd() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5000) await new Promise((r) => setTimeout(r, left + 200));
}

describe("inbound filters", () => {
  it("drop what each filter names, count it as filtered with the filter's name, and accept the rest", async () => {
    const p = await createTestProject("filters");
    await configure(p, {
      filters: {
        localhost: true,
        ipAddresses: ["203.0.113.0/24"],
        releases: ["1.0.*"],
        errorMessages: ["*ResizeObserver loop*"],
      },
    });
    const send = (body: string, headers: Record<string, string> = {}) =>
      call(`/entries?apikey=${p.key}`, {
        method: "POST",
        body,
        headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", ...headers },
      });
    const cases: [string, Record<string, string>][] = [
      [raygun("from a blocked network"), { "cf-connecting-ip": "203.0.113.7" }],
      [raygun("old release", { version: "1.0.3" }), {}],
      [raygun("ResizeObserver loop limit exceeded"), {}],
      [raygun("dev box", { url: "http://localhost:3000/cart" }), {}],
      [
        raygun("crawler"),
        { "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" },
      ],
      [raygun("extension", { file: "chrome-extension://abcdefghijklmnop/content.js" }), {}],
      [raygun("a real error"), {}],
    ];
    for (const [body, headers] of cases) expect((await send(body, headers)).status).toBe(202);
    const totals = await totalsWhen(p, (t) => sum(t) === cases.length);
    const filtered = totals
      .filter((t) => t.outcome === "filtered")
      .map((t) => t.reason)
      .sort();
    expect(filtered).toEqual([
      "browser-extensions",
      "error-message",
      "ip-address",
      "localhost",
      "release-version",
      "web-crawlers",
    ]);
    expect(sum(totals, "accepted")).toBe(1);
    const groups = await api<{ groups: { message: string }[] }>(`/api/v1/projects/${p.id}/groups`);
    expect(groups.body.groups.map((g) => g.message)).toEqual(["a real error"]);
  });
});

describe("sampling", () => {
  it("keeps or drops each trace whole, and never drops errors by trace", async () => {
    const p = await createTestProject("sampling");
    await configure(p, { sampleRates: { transaction: 0.5 }, spikeProtection: false });
    const traces = Array.from(
      { length: 16 },
      (_, i) => `${i.toString(16).padStart(2, "0")}${"ab".repeat(15)}`,
    );
    for (const trace of traces) {
      for (let j = 0; j < 3; j++) {
        const header = JSON.stringify({
          event_id: crypto.randomUUID().replaceAll("-", ""),
          trace: { trace_id: trace, public_key: p.key, sample_rate: "1" },
        });
        const tx = JSON.stringify({
          type: "transaction",
          transaction: `GET /t${j}`,
          start_timestamp: Date.now() / 1000 - 1,
          timestamp: Date.now() / 1000,
          contexts: { trace: { trace_id: trace, span_id: "1".repeat(16) } },
        });
        const res = await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, {
          method: "POST",
          body: `${header}\n{"type":"transaction"}\n${tx}`,
        });
        expect(res.status).toBe(200);
      }
      // An error in the same trace is judged by the error rate (1.0) only.
      const err = `${JSON.stringify({ event_id: crypto.randomUUID().replaceAll("-", ""), trace: { trace_id: trace } })}\n{"type":"event"}\n${JSON.stringify({ message: "in trace", level: "error" })}`;
      expect(
        (await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, { method: "POST", body: err })).status,
      ).toBe(200);
    }
    const totals = await totalsWhen(p, (t) => sum(t) === traces.length * 4);
    const tx = totals.filter((t) => t.category === "transaction");
    const kept = sum(tx, "accepted");
    const dropped = sum(tx, "sampled");
    expect(kept + dropped).toBe(48);
    expect(kept % 3).toBe(0); // whole traces only
    expect(kept).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(
      sum(
        totals.filter((t) => t.category === "error"),
        "accepted",
      ),
    ).toBe(traces.length);
  });
});

describe("quotas", () => {
  it("Raygun: the 6th request of a minute with rateLimitPerMinute 5 gets 429 with Retry-After", async () => {
    const p = await createTestProject("quota-raygun");
    await configure(p, { rateLimitPerMinute: 5, spikeProtection: false });
    await awayFromMinuteEnd();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await call(`/entries?apikey=${p.key}`, { method: "POST", body: raygun(`q${i}`) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    const retry = Number(last!.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    const totals = await totalsWhen(p, (t) => sum(t) === 6);
    expect(totals).toContainEqual({
      category: "error",
      outcome: "rate_limited",
      reason: "rate_limit",
      quantity: 1,
    });
  });

  it("Sentry: 429 with X-Sentry-Rate-Limits when everything is limited; 200 + header when only some items are", async () => {
    const p = await createTestProject("quota-sentry");
    await configure(p, { rateLimitPerMinute: 5, spikeProtection: false });
    await awayFromMinuteEnd();
    const event = (i: number) =>
      `{}\n{"type":"event"}\n${JSON.stringify({ message: `m${i}`, level: "error" })}`;
    const url = `/api/${p.id}/envelope/?sentry_key=${p.key}`;
    for (let i = 0; i < 5; i++)
      expect((await call(url, { method: "POST", body: event(i) })).status).toBe(200);
    const limited = await call(url, { method: "POST", body: event(6) });
    expect(limited.status).toBe(429);
    const header = limited.headers.get("x-sentry-rate-limits")!;
    const parsed = parseRateLimits(header);
    expect(parsed[0]).toMatchObject({ scope: "project", reasonCode: "rate_limit" });
    expect(parsed[0]!.categories).toEqual(expect.arrayContaining(["error", "default", "transaction"]));
    expect(Number(limited.headers.get("retry-after"))).toBe(parsed[0]!.retryAfterSeconds);
    // An envelope with an event and a client report: the event is stripped, the report is kept.
    const mixed = `{}\n{"type":"event"}\n{"message":"x"}\n{"type":"client_report"}\n${JSON.stringify({ discarded_events: [{ reason: "ratelimit_backoff", category: "error", quantity: 1 }] })}`;
    const partial = await call(url, { method: "POST", body: mixed });
    expect(partial.status).toBe(200);
    expect(partial.headers.get("x-sentry-rate-limits")).toMatch(/:project:rate_limit$/);
    const totals = await totalsWhen(
      p,
      (t) => t.some((x) => x.outcome === "client_discard") && sum(t, "rate_limited") === 2,
    );
    expect(sum(totals, "accepted")).toBe(6); // 5 events + the client report item
  });

  it("spike protection limits a project with no history at max(50, 5 × 0) = 50 per minute, answered from memory", async () => {
    const p = await createTestProject("spike");
    await awayFromMinuteEnd();
    const bulk = `[${Array.from({ length: 60 }, (_, i) => raygun(`spike ${i}`)).join(",")}]`;
    // The first request is admitted and counted in the background; its sync marks the project limited.
    expect((await call(`/entries/bulk?apikey=${p.key}`, { method: "POST", body: bulk })).status).toBe(202);
    const res = await waitFor(async () => {
      const r = await call(`/entries?apikey=${p.key}`, { method: "POST", body: raygun("one more") });
      return r.status === 429 ? r : null;
    });
    expect(res.status).toBe(429);
    const totals = await totalsWhen(p, (t) => t.some((x) => x.reason === "spike_protection"));
    expect(totals.find((t) => t.reason === "spike_protection")!.outcome).toBe("rate_limited");
  });

  it("the QuotaCounter applies max(50, 5 × the 24 h average) against a synthetic history", async () => {
    const stub = env.QUOTA.get(env.QUOTA.idFromName("synthetic-history"));
    const now = Date.UTC(2026, 10, 26, 12, 0, 30);
    const minute = Math.floor(now / 60_000) * 60_000;
    const history: Record<string, number> = {};
    for (let i = 1; i <= 1440; i++) history[String(minute - i * 60_000)] = 20; // average 20/min → limit 100
    await stub.seed(history);
    const first = await stub.consume({ quantity: 100, rateLimitPerMinute: null, spikeProtection: true, now });
    expect(first).toMatchObject({ allowed: true, admitted: 100, limit: 100, reason: "spike_protection" });
    const over = await stub.consume({ quantity: 1, rateLimitPerMinute: null, spikeProtection: true, now });
    expect(over).toMatchObject({ allowed: false, admitted: 0, limit: 100 });
    // A hard limit below the spike limit binds instead, and the next minute starts afresh.
    const next = await stub.consume({
      quantity: 30,
      rateLimitPerMinute: 25,
      spikeProtection: true,
      now: now + 60_000,
    });
    expect(next).toMatchObject({ allowed: false, admitted: 25, limit: 25, reason: "rate_limit" });
  });
});

describe("PII scrubbing", () => {
  it("a password in a Raygun form field and in a Sentry request body never reaches R2, D1 or the search index", async () => {
    const p = await createTestProject("scrub");
    const secret = "hunter2-Zq9XwV";
    const card = "4111 1111 1111 1111";
    expect(
      (
        await call(`/entries?apikey=${p.key}`, {
          method: "POST",
          body: raygun(`login failed, card ${card}`, { form: { username: "ada", password: secret } }),
        })
      ).status,
    ).toBe(202);
    const sentryEvent = {
      message: "signup failed",
      level: "error",
      request: {
        url: "https://shop.example/signup",
        method: "POST",
        data: { email: "ada@example.com", password: secret },
      },
    };
    expect(
      (
        await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, {
          method: "POST",
          body: `{}\n{"type":"event"}\n${JSON.stringify(sentryEvent)}`,
        })
      ).status,
    ).toBe(200);
    // Form-encoded body too.
    const formEvent = {
      message: "form post",
      request: { method: "POST", data: `user=ada&password=${secret}` },
    };
    expect(
      (
        await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, {
          method: "POST",
          body: `{}\n{"type":"event"}\n${JSON.stringify(formEvent)}`,
        })
      ).status,
    ).toBe(200);
    const events = await waitFor(async () => {
      // The event index (search_docs here) holds each event's segment pointer.
      const r = await env.DB.prepare("SELECT * FROM search_docs WHERE project_id = ?").bind(p.id).all();
      return r.results.length === 3 ? r.results : null;
    });
    // R2: every stored record, decompressed.
    const { readRecord } = await import("../../shared/storage/segments");
    for (const e of events as {
      segment_key: string;
      segment_offset: number;
      segment_length: number;
      event_id: string;
    }[]) {
      const rec = await readRecord(
        env.BLOBS,
        e.segment_key,
        { offset: e.segment_offset, length: e.segment_length },
        { eventId: e.event_id, projectId: String(p.id) },
      );
      const text = new TextDecoder().decode(rec!.payload) + JSON.stringify(rec!.header);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(card);
      expect(text).toContain("[Filtered]");
    }
    // D1: every table's text.
    for (const [table, id] of [
      ["error_groups", Number(p.id)],
      ["search_docs", p.id],
    ] as const) {
      const db = table === "error_groups" ? await metaDbOf(p.id) : env.DB;
      const rows = await db.prepare(`SELECT * FROM ${table} WHERE project_id = ?`).bind(id).all();
      expect(rows.results.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows.results)).not.toContain(secret);
      expect(JSON.stringify(rows.results)).not.toContain(card);
    }
    // Search: the secret finds nothing.
    const found = await api<{ total: number }>(
      `/api/v1/projects/${p.id}/search?q=${encodeURIComponent(secret)}`,
    );
    expect(found.body.total).toBe(0);
    // Claim-checked or not, no object in R2 holds it (claims are deleted once stored).
    const claims = await env.BLOBS.list({ prefix: `claims/${p.id}/` });
    expect(claims.objects).toHaveLength(0);
  });
});

describe("outcomes", () => {
  it("add up after a mixed run: sent = accepted + every drop, invalid and too_large included", async () => {
    const p = await createTestProject("outcomes");
    await configure(p, {
      filters: { errorMessages: ["*ignored*"] },
      sampleRates: { rum: 0 },
      rateLimitPerMinute: 8,
      spikeProtection: false,
    });
    await awayFromMinuteEnd();
    let sent = 0;
    const post = async (path: string, body: string) => {
      sent += path.includes("bulk")
        ? (JSON.parse(body) as unknown[]).length
        : path.includes("events")
          ? (JSON.parse(body) as { eventData: unknown[] }).eventData.length
          : 1;
      return call(`${path}?apikey=${p.key}`, { method: "POST", body });
    };
    await post("/entries", raygun("kept 1"));
    await post("/entries", raygun("ignored by a filter"));
    await post("/entries/bulk", `[${[1, 2, 3].map((i) => raygun(`bulk ${i}`)).join(",")}]`);
    await post(
      "/events",
      JSON.stringify({
        eventData: [
          { sessionId: "s1", type: "session_start", timestamp: new Date().toISOString() },
          { sessionId: "s2", type: "session_start", timestamp: new Date().toISOString() },
        ],
      }),
    );
    expect((await post("/entries", JSON.stringify({ details: {} }))).status).toBe(400); // invalid
    expect((await post("/entries", raygun("x".repeat(140 * 1024)))).status).toBe(413); // too_large
    for (let i = 0; i < 6; i++) await post("/entries", raygun(`burst ${i}`)); // 4 fit under 8, 2 limited
    const totals = await totalsWhen(p, (t) => sum(t) === sent);
    expect(sum(totals)).toBe(sent);
    const by = (o: string) => sum(totals, o);
    expect({
      accepted: by("accepted"),
      filtered: by("filtered"),
      sampled: by("sampled"),
      rate_limited: by("rate_limited"),
      invalid: by("invalid"),
      too_large: by("too_large"),
    }).toEqual({
      accepted: 8,
      filtered: 1,
      sampled: 2,
      rate_limited: 2,
      invalid: 1,
      too_large: 1,
    });
  });
});

describe("settings", () => {
  it("validates with a 400 naming the field, and unknown fields are refused", async () => {
    const p = await createTestProject("settings");
    const bad = await api<{ error: string }>(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ sampleRates: { error: 2 } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/sampleRates\.error/);
    const unknown = await api<{ error: string }>(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ colour: "red" }),
    });
    expect(unknown.status).toBe(400);
    const cidr = await api<{ error: string }>(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ retentionDays: 0 }),
    });
    expect(cidr.body.error).toMatch(/retentionDays/);
    const ok = await api<{ retentionDays: number; filters: { localhost: boolean } }>(
      `/api/v1/projects/${p.id}/settings`,
      {
        method: "PATCH",
        body: JSON.stringify({ retentionDays: 30, filters: { localhost: true } }),
      },
    );
    expect(ok.body).toMatchObject({ retentionDays: 30, filters: { localhost: true, webCrawlers: true } });
  });
});
