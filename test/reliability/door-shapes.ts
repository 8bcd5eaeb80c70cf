// The attacks of issue #12 "The public door" as plain requests with the answers that are right for
// them, so the same cases run in process (public-door.test.ts) and over HTTP against `wrangler dev`
// (hostile-http.e2e.test.ts): brotli/zstd bombs, bombs and item floods under unknown keys, the
// store endpoint's base64+zlib bomb, envelopes of ~20 MiB of tiny items, bulk/RUM item floods,
// disallowed Origins, regex-hostile text of ~64 KB. Checks that need storage are in the tests.
import { base64ZlibBomb, bomb, type Format } from "./compression";
import { TEXT_SHAPES } from "./hostile-text";
import type { Protocol } from "./victims";

export interface DoorProject {
  id: string;
  key: string;
}

export interface DoorRequest {
  path: string;
  init: RequestInit;
}

export interface DoorCase {
  name: string;
  protocol: Protocol;
  /** Built on demand: some bodies are tens of MB. */
  build(): Promise<DoorRequest>;
  /** The right answers; anything else (a 5xx above all) fails. */
  expect: number[];
  /** The answer must come within this. */
  budgetMs: number;
}

export interface DoorProjects {
  /** No quotas: whatever it sends is admitted if valid. */
  attacker: DoorProject;
  /** allowedOrigins = [ALLOWED_ORIGIN]. */
  originLocked: DoorProject;
  /** A well-formed key of no project. */
  unknownKey: string;
}

export const ALLOWED_ORIGIN = "https://shop.example";
const MiB = 1024 * 1024;
/** Body reading + refusal of a bomb or a flood: bounded work, whatever was declared. */
const REFUSE_MS = 3_000;

const raygunHeaders = (key: string) => ({ "x-apikey": key });
const sentryQuery = (key: string) => `?sentry_key=${key}&sentry_version=7`;

function routes(p: DoorProject, key: string): [Protocol, string, Record<string, string>][] {
  return [
    ["raygun", "/entries", raygunHeaders(key)],
    ["raygun", "/entries/bulk", raygunHeaders(key)],
    ["raygun", "/events", raygunHeaders(key)],
    ["sentry", `/api/${p.id}/envelope/${sentryQuery(key)}`, {}],
    ["sentry", `/api/${p.id}/store/${sentryQuery(key)}`, {}],
  ];
}

const refusedKey = (protocol: Protocol) => (protocol === "raygun" ? [403] : [401, 403]);

/** Bombs of every format: 413 with the right key (zstd may be 415), a key refusal without one. */
function bombCases({ attacker, unknownKey }: DoorProjects): DoorCase[] {
  const out: DoorCase[] = [];
  for (const format of ["gzip", "deflate", "br", "zstd"] satisfies Format[]) {
    for (const [key, right] of [
      [attacker.key, true],
      [unknownKey, false],
    ] as const) {
      for (const [protocol, path, headers] of routes(attacker, key)) {
        // gzip/deflate bombs with the right key are the in-process suite's (hostile-input.test.ts).
        if (right && (format === "gzip" || format === "deflate")) continue;
        out.push({
          name: `${format} bomb (64 MiB) ${right ? "right" : "unknown"} key ${path.split("?")[0]}`,
          protocol,
          build: async () => ({
            path,
            init: {
              method: "POST",
              headers: { ...headers, "content-encoding": format },
              body: await bomb(format, 64),
            },
          }),
          expect: right ? (format === "zstd" ? [413, 415] : [413]) : refusedKey(protocol),
          budgetMs: REFUSE_MS,
        });
      }
    }
  }
  return out;
}

/** Envelopes and arrays of very many tiny items. */
function floodCases({ attacker, unknownKey }: DoorProjects): DoorCase[] {
  const tiny = '{"type":"nope","length":0}\n\n';
  const envelope = (header: string) => header + tiny.repeat(Math.floor((20 * MiB - 200) / tiny.length));
  const dsn = `http://${attacker.key}@sluice.test/${attacker.id}`;
  const post = (path: string, body: string, headers: Record<string, string> = {}) => ({
    path,
    init: { method: "POST", headers, body },
  });
  return [
    {
      name: "envelope of ~20 MiB of tiny items, right key",
      protocol: "sentry",
      build: async () => post(`/api/${attacker.id}/envelope/${sentryQuery(attacker.key)}`, envelope("{}\n")),
      expect: [400, 413],
      budgetMs: REFUSE_MS,
    },
    {
      name: "envelope of ~20 MiB of tiny items, unknown key",
      protocol: "sentry",
      build: async () => post(`/api/${attacker.id}/envelope/${sentryQuery(unknownKey)}`, envelope("{}\n")),
      expect: [401, 403],
      budgetMs: REFUSE_MS,
    },
    {
      name: "envelope of ~20 MiB of tiny items, key only in the envelope dsn (tunnel)",
      protocol: "sentry",
      build: async () => post(`/api/${attacker.id}/envelope/`, envelope(`${JSON.stringify({ dsn })}\n`)),
      expect: [400, 413],
      budgetMs: REFUSE_MS,
    },
    {
      name: "store: base64+zlib bomb (24 MiB inflated), unknown key",
      protocol: "sentry",
      build: async () =>
        post(`/api/${attacker.id}/store/${sentryQuery(unknownKey)}`, await base64ZlibBomb(24)),
      expect: [401, 403],
      budgetMs: REFUSE_MS,
    },
    {
      name: "store: base64+zlib bomb (24 MiB inflated), right key",
      protocol: "sentry",
      build: async () =>
        post(`/api/${attacker.id}/store/${sentryQuery(attacker.key)}`, await base64ZlibBomb(24)),
      expect: [413],
      budgetMs: REFUSE_MS,
    },
    {
      name: "bulk: an array of 1,000,000 empty reports",
      protocol: "raygun",
      build: async () => post("/entries/bulk", `[${"{},".repeat(999_999)}{}]`, raygunHeaders(attacker.key)),
      expect: [400, 413],
      budgetMs: REFUSE_MS,
    },
    {
      name: "RUM: eventData of 1,000,000 empty items",
      protocol: "raygun",
      build: async () =>
        post("/events", `{"eventData":[${"{},".repeat(999_999)}{}]}`, raygunHeaders(attacker.key)),
      expect: [400, 413],
      budgetMs: REFUSE_MS,
    },
  ];
}

/** A project that allows one Origin: others are refused (403); preflights are still answered. */
function originCases({ originLocked: p }: DoorProjects): DoorCase[] {
  const event = () => JSON.stringify({ message: "origin check", level: "error" });
  const report = () =>
    JSON.stringify({ occurredOn: new Date().toISOString(), details: { error: { message: "origin check" } } });
  const cases: DoorCase[] = [];
  for (const [origin, right] of [
    ["https://evil.example", false],
    ["null", false],
    [ALLOWED_ORIGIN, true],
  ] as const) {
    cases.push(
      {
        name: `Raygun POST with Origin ${origin}`,
        protocol: "raygun",
        build: async () => ({
          path: "/entries",
          init: { method: "POST", headers: { ...raygunHeaders(p.key), origin }, body: report() },
        }),
        expect: right ? [202] : [403],
        budgetMs: REFUSE_MS,
      },
      {
        name: `Sentry POST with Origin ${origin}`,
        protocol: "sentry",
        build: async () => ({
          path: `/api/${p.id}/store/${sentryQuery(p.key)}`,
          init: { method: "POST", headers: { origin }, body: event() },
        }),
        expect: right ? [200] : [403],
        budgetMs: REFUSE_MS,
      },
      {
        name: `preflight with Origin ${origin}`,
        protocol: "sentry",
        build: async () => ({
          path: `/api/${p.id}/envelope/`,
          init: {
            method: "OPTIONS",
            headers: { origin, "access-control-request-method": "POST" },
          },
        }),
        expect: [200, 204],
        budgetMs: REFUSE_MS,
      },
    );
  }
  return cases;
}

/**
 * Bodies refused part way through (a Content-Encoding they do not have), several in a row: the edge
 * answers before the body has arrived, and must leave the connection usable for the next request
 * (cancelling the rest of the body made wrangler's proxy answer the following requests 503).
 */
function corruptBodyCases({ attacker }: DoorProjects): DoorCase[] {
  const garbage = "x".repeat(256 * 1024);
  const cases: DoorCase[] = [];
  for (const encoding of ["gzip", "deflate", "br", "zstd"]) {
    for (let round = 0; round < 3; round++) {
      cases.push(
        {
          name: `Raygun body of 256 KiB that is not ${encoding}, right key (#${round + 1})`,
          protocol: "raygun",
          build: async () => ({
            path: "/entries",
            init: {
              method: "POST",
              headers: { "x-apikey": attacker.key, "content-encoding": encoding },
              body: garbage,
            },
          }),
          expect: [400, 413],
          budgetMs: REFUSE_MS,
        },
        {
          name: `Sentry envelope of 256 KiB that is not ${encoding}, right key (#${round + 1})`,
          protocol: "sentry",
          build: async () => ({
            path: `/api/${attacker.id}/envelope/${sentryQuery(attacker.key)}`,
            init: { method: "POST", headers: { "content-encoding": encoding }, body: garbage },
          }),
          expect: [400],
          budgetMs: REFUSE_MS,
        },
      );
    }
  }
  return cases;
}

/** Every request case of issue #12 for these projects. */
export function doorCases(projects: DoorProjects): DoorCase[] {
  return [
    ...bombCases(projects),
    ...floodCases(projects),
    ...originCases(projects),
    ...corruptBodyCases(projects),
  ];
}

/**
 * Good reports carrying ~64 KB of one regex-hostile shape each (with a sensitive field beside it,
 * for the scrubber's walk to find). Each is accepted and must be
 * processed in bounded time: `marker` makes them searchable.
 */
export function regexHostileReports(
  p: DoorProject,
  marker: string,
  repeat = 32_000,
): { name: string; protocol: Protocol; request: DoorRequest }[] {
  const out: { name: string; protocol: Protocol; request: DoorRequest }[] = [];
  for (const [name, shape] of Object.entries(TEXT_SHAPES)) {
    // Raygun's limit is 128 KB per report: the hostile part stays under 64 KB (whole: its tail
    // is what makes the backtracking fail late).
    const full = shape(repeat);
    const text = full.length <= 64_000 ? full : shape(Math.floor((repeat * 64_000) / full.length));
    const message = `${marker} ${name}`;
    const report = {
      occurredOn: new Date().toISOString(),
      details: {
        error: { className: "HostileText", message: `${message} ${text.slice(0, 20_000)}` },
        userCustomData: { password: "hunter2", note: text },
      },
    };
    out.push({
      name: `Raygun ${name}`,
      protocol: "raygun",
      request: {
        path: "/entries",
        init: { method: "POST", headers: raygunHeaders(p.key), body: JSON.stringify(report) },
      },
    });
    const event = {
      message,
      level: "error",
      extra: { password: "hunter2", note: text },
      request: { url: `https://shop.example/?token=abc&q=${encodeURIComponent(text.slice(0, 2_000))}` },
    };
    out.push({
      name: `Sentry ${name}`,
      protocol: "sentry",
      request: {
        path: `/api/${p.id}/store/${sentryQuery(p.key)}`,
        init: { method: "POST", body: JSON.stringify(event) },
      },
    });
  }
  return out;
}
