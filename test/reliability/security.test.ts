// Security properties, in workerd: ingest keys are compared in constant time; a key of project A
// never writes into project B; every /api/v1 route of the OpenAPI document refuses a missing or
// wrong admin token; and no secret (admin token, ingest keys) shows up in a log line, nor in a
// response body other than the project endpoints whose job is to return the key.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { safeEqual } from "../../workers/console/auth";
import { keysEqual } from "../../workers/edge/project-cache";
import nodeReport from "../../workers/edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import worker from "../pipeline-worker";
import {
  ADMIN_TOKEN,
  api,
  createProject,
  edge,
  groupCountSum,
  type Project,
  reportFigures,
  tapResponses,
  waitFor,
} from "./harness";

const figures = { routesChecked: 0, refusals: 0, crossProjectAttempts: 0, logLines: 0, responsesScanned: 0 };
afterAll(() => reportFigures("security", figures));

/** The body of the comparison loop: what runs once per character. */
function loopBody(fn: (...args: never[]) => unknown): string {
  const src = fn.toString();
  const loop = /for\s*\(([^)]*)\)\s*(\{[\s\S]*?\}|[^;]*;)/.exec(src);
  if (!loop) throw new Error(`no loop in ${fn.name}: ${src}`);
  return loop[2]!;
}

describe("constant-time key comparison", () => {
  const key = "0123456789abcdef0123456789abcdef";

  it("keysEqual is correct: equal, every single-character difference, case, and length", () => {
    expect(keysEqual(key, key)).toBe(true);
    expect(keysEqual(key, `${key}`)).toBe(true);
    for (let i = 0; i < key.length; i++) {
      const other = key.slice(0, i) + (key[i] === "0" ? "1" : "0") + key.slice(i + 1);
      expect(keysEqual(key, other)).toBe(false);
      expect(keysEqual(other, key)).toBe(false);
    }
    expect(keysEqual(key, key.toUpperCase())).toBe(false);
    expect(keysEqual(key, key.slice(1))).toBe(false);
    expect(keysEqual("", "")).toBe(true);
  });

  it("keysEqual and the admin-token safeEqual have no early exit inside their loop", () => {
    for (const fn of [keysEqual, safeEqual]) {
      const body = loopBody(fn as never);
      // Every character is visited: no return/break/continue in the loop, no short-circuit operators.
      expect(body, fn.name).not.toMatch(/\breturn\b|\bbreak\b|\bcontinue\b|&&|\|\||\?/);
      expect(body, fn.name).toMatch(/\|=/);
      // The only comparison of contents is the final accumulated one.
      const src = fn.toString();
      expect(src.slice(src.indexOf("for")).match(/\breturn\b/g), fn.name).toHaveLength(1);
    }
  });

  it("safeEqual is correct for the admin token", () => {
    expect(safeEqual(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(true);
    expect(safeEqual(ADMIN_TOKEN, ADMIN_TOKEN.toUpperCase())).toBe(false);
    expect(safeEqual(ADMIN_TOKEN, `${ADMIN_TOKEN}x`)).toBe(false);
    expect(safeEqual("é", "e\u0301")).toBe(false);
  });
});

describe("project isolation", () => {
  let A: Project;
  let B: Project;
  beforeAll(async () => {
    A = await createProject("isolation-a");
    B = await createProject("isolation-b");
  });

  const report = (message: string) =>
    JSON.stringify({
      ...nodeReport,
      occurredOn: new Date().toISOString(),
      details: { ...nodeReport.details, error: { ...nodeReport.details.error, message } },
    });

  it("a Raygun key of A always lands in A, whatever else the request names", async () => {
    const attempts: [string, RequestInit][] = [
      ["/entries", { headers: { "x-apikey": A.key } }],
      [`/entries?apikey=${A.key}`, {}],
      // Header and query disagree: the header wins, and it is A's.
      [`/entries?apikey=${B.key}`, { headers: { "x-apikey": A.key } }],
      [`/entries?projectId=${B.id}&project=${B.id}`, { headers: { "x-apikey": A.key } }],
      [`/api/${B.id}/store/?apikey=${A.key}`, {}],
    ];
    let accepted = 0;
    for (const [path, init] of attempts) {
      figures.crossProjectAttempts++;
      const res = await edge(path, { method: "POST", body: report("isolation probe"), ...init });
      if (res.status === 202) accepted++;
    }
    expect(accepted).toBe(4);
    await waitFor(async () => ((await groupCountSum(A.id)) === accepted ? true : null), 20_000, "A's events");
    expect(await groupCountSum(B.id)).toBe(0);
  });

  it("a Sentry key of A is refused on B's routes (403), whichever carrier it uses", async () => {
    const event = JSON.stringify({ message: "cross-project", level: "error" });
    const envelope = (dsnProject: string | null) =>
      `${JSON.stringify(dsnProject ? { dsn: `http://${A.key}@sluice.test/${dsnProject}` } : {})}\n{"type":"event"}\n${event}\n`;
    const auth = `Sentry sentry_key=${A.key}, sentry_version=7`;
    const cases: [string, RequestInit][] = [
      [`/api/${B.id}/envelope/?sentry_key=${A.key}&sentry_version=7`, { body: envelope(null) }],
      [`/api/${B.id}/envelope/`, { body: envelope(null), headers: { "x-sentry-auth": auth } }],
      [`/api/${B.id}/envelope/`, { body: envelope(null), headers: { authorization: auth } }],
      [
        `/api/${B.id}/envelope/`,
        { body: envelope(null), headers: { authorization: `Basic ${btoa(`${A.key}:`)}` } },
      ],
      [`/api/${B.id}/store/?sentry_key=${A.key}`, { body: event }],
      [`/api/${B.id}/store/`, { body: event, headers: { "x-sentry-auth": auth } }],
    ];
    for (const [path, init] of cases) {
      figures.crossProjectAttempts++;
      const res = await edge(path, { method: "POST", ...init });
      expect(`${path} ${res.status}`).toBe(`${path} 403`);
    }
    // The envelope's own DSN cannot smuggle A's key into B either (or B's id into A's route).
    for (const [path, body] of [
      [`/api/${B.id}/envelope/`, envelope(B.id)],
      [`/api/${A.id}/envelope/`, envelope(B.id)],
    ] as const) {
      figures.crossProjectAttempts++;
      const res = await edge(path, { method: "POST", body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await groupCountSum(B.id)).toBe(0);
  });
});

describe("the API refuses missing and wrong admin tokens", () => {
  it("every /api/v1 route in the OpenAPI document answers 401 without the right token", async () => {
    const doc = await edge("/api/v1/openapi.json");
    expect(doc.status).toBe(200);
    const spec = (await doc.json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
    expect(routes.length).toBeGreaterThan(10);
    const wrong: (Record<string, string> | null)[] = [
      null,
      { authorization: "Bearer wrong-token" },
      { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` },
      { authorization: ADMIN_TOKEN },
      { authorization: "Bearer " },
      { "x-admin-token": ADMIN_TOKEN },
      { cookie: "sluice_session=0000" },
      { cookie: `sluice_session=${ADMIN_TOKEN}` },
    ];
    for (const { method, path } of routes) {
      if (path === "/api/v1/openapi.json") continue;
      const concrete = path.replace("{id}", "1").replace(/\{[^}]+\}/g, "0123456789abcdef0123456789abcdef");
      figures.routesChecked++;
      for (const headers of wrong) {
        const res = await edge(`${concrete}?token=${ADMIN_TOKEN}`, {
          method,
          headers: { "content-type": "application/json", ...(headers ?? {}) },
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
        });
        expect(`${method} ${path} ${JSON.stringify(headers)} → ${res.status}`).toBe(
          `${method} ${path} ${JSON.stringify(headers)} → 401`,
        );
        expect(await res.text()).not.toContain(ADMIN_TOKEN);
        figures.refusals++;
      }
    }
  });

  it("the dashboard pages without a session do not serve data", async () => {
    for (const path of ["/ui/", "/ui/projects/1", "/ui/projects/1/search?q=x"]) {
      const res = await edge(path, { redirect: "manual" });
      expect([302, 303, 401, 404]).toContain(res.status);
    }
  });
});

describe("no secret in logs or responses", () => {
  it("an ingestion + API run logs neither the admin token nor an ingest key, and only project endpoints return keys", async () => {
    const lines: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(
          args
            .map((a) => (a instanceof Error ? `${a.stack}` : typeof a === "string" ? a : JSON.stringify(a)))
            .join(" "),
        );
      }),
    );
    const responses: { method: string; path: string; status: number; body: string }[] = [];
    tapResponses((method, path, status, body) => responses.push({ method, path, status, body }));
    try {
      const p = await createProject("secrets");
      const other = await createProject("secrets-other");
      const good = JSON.stringify({ ...nodeReport, occurredOn: new Date().toISOString() });
      const sends: [string, RequestInit][] = [
        ["/entries", { body: good, headers: { "x-apikey": p.key } }],
        [`/entries?apikey=${p.key}`, { body: "{not json" }],
        ["/entries/bulk", { body: `[${good},{"details":1}]`, headers: { "x-apikey": p.key } }],
        ["/events", { body: "{}", headers: { "x-apikey": p.key } }],
        [`/entries?apikey=${p.key.toUpperCase()}`, { body: good, headers: { "content-encoding": "gzip" } }],
        [
          `/api/${p.id}/store/?sentry_key=${p.key}&sentry_version=7`,
          { body: '{"message":"secret-scan","level":"error"}' },
        ],
        [`/api/${p.id}/store/?sentry_key=${other.key}`, { body: "{}" }],
        [`/api/${p.id}/envelope/?sentry_key=${p.key}`, { body: "not an envelope" }],
        [`/api/${p.id}/envelope/`, { body: `{"dsn":"http://${p.key}@x/${p.id}"}\n{"type":"event"}\n{}\n` }],
      ];
      for (const [path, init] of sends) await edge(path, { method: "POST", ...init });
      await waitFor(async () => ((await groupCountSum(p.id)) >= 2 ? true : null), 20_000, "events stored");
      const groups = await api<{ groups: { id: string }[] }>(`/api/v1/projects/${p.id}/groups`);
      // The group's event list comes from the event index, written by the indexer after the group.
      const events = await waitFor(async () => {
        const r = await api<{ events: { id: string }[] }>(
          `/api/v1/projects/${p.id}/groups/${groups.body.groups[0]!.id}/events`,
        );
        return r.body.events.length > 0 ? r : null;
      });
      for (const path of [
        `/api/v1/projects/${p.id}/events/${events.body.events[0]!.id}`,
        `/api/v1/projects/${p.id}/events/${events.body.events[0]!.id}/raw`,
        `/api/v1/projects/${p.id}/stats`,
        `/api/v1/projects/${p.id}/search?q=secret`,
        `/api/v1/projects/${p.id}/settings`,
        "/api/v1/dead-letters",
        "/api/v1/openapi.json",
        "/api/v1/nope",
      ]) {
        await api(path);
      }
      await api(`/api/v1/projects/${p.id}/settings`, { method: "PATCH", body: '{"retentionDays":"x"}' });
      // Paths that do log: the edge's 503 when a queue is down, and the processor's retry of an
      // item whose claim-check blob is missing (this also proves the capture sees pipeline logs).
      const downQueue = {
        ...env,
        Q_ERRORS_0: {
          send: () => Promise.reject(new Error("queue down")),
          sendBatch: () => Promise.reject(new Error("queue down")),
        },
      };
      const failed = await worker.fetch(
        new Request(`http://sluice.test/entries?apikey=${p.key}`, { method: "POST", body: good }) as never,
        downQueue as never,
        createExecutionContext(),
      );
      expect(failed.status).toBe(503);
      responses.push({
        method: "POST",
        path: "/entries (queue down)",
        status: 503,
        body: await failed.text(),
      });
      await env.Q_ERRORS_0.send(
        JSON.stringify({
          v: 1,
          id: crypto.randomUUID(),
          items: [
            {
              protocol: "raygun",
              category: "error",
              itemType: "entry",
              projectId: p.id,
              eventId: "0".repeat(32),
              receivedAt: Date.now(),
              client: { ip: null, userAgent: null, country: null, colo: null },
              blobKey: `claims/${p.id}/missing`,
              size: 1,
            },
          ],
        }),
        { contentType: "text" },
      );
      await waitFor(
        async () => (lines.some((l) => /will retry/.test(l)) ? true : null),
        20_000,
        "a retry log line",
      );
      await edge("/ui/login");
      await edge("/api/v1/projects", { headers: { authorization: "Bearer nope" } });
    } finally {
      tapResponses(null);
      for (const s of spies) s.mockRestore();
    }
    const keys = (await api<{ projects: { key: string }[] }>("/api/v1/projects")).body.projects.map(
      (x) => x.key,
    );
    const secrets = [ADMIN_TOKEN, ...keys, ...keys.map((k) => k.toUpperCase())];
    figures.logLines += lines.length;
    figures.responsesScanned += responses.length;
    for (const line of lines)
      for (const s of secrets) expect(line.includes(s), `log line leaks a secret: ${line}`).toBe(false);
    // Project endpoints return the key on purpose (create, list, read, rotate).
    const keyEndpoint = /^\/api\/v1\/projects(\/\d+(\/keys\/rotate)?)?$/;
    for (const r of responses) {
      expect(r.body.includes(ADMIN_TOKEN), `${r.method} ${r.path} returns the admin token`).toBe(false);
      if (keyEndpoint.test(r.path.split("?")[0]!)) continue;
      for (const k of keys)
        expect(r.body.includes(k), `${r.method} ${r.path} returns an ingest key`).toBe(false);
    }
  });
});
