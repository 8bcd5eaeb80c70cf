// The hostile-input suite over real HTTP against `wrangler dev` (the whole stack, test/e2e/stack.ts):
// the same generated bodies, credentials and encodings as hostile-input.test.ts (a smaller count,
// HTTP_RUNS per route), the issue #12 request cases of door-shapes.ts, and ~64 KB regex-hostile
// reports, while a victim project per protocol sends good events in between. Every answer must be
// < 500 within its budget, the stack must stay up, and every victim event must be readable.
import { writeFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningStack, startStack } from "../e2e/stack";
import { ALLOWED_ORIGIN, type DoorCase, doorCases, regexHostileReports } from "./door-shapes";
import {
  type Body,
  bulkBody,
  type Credentials,
  contentTypes,
  type Encoding,
  encodeBody,
  encodings,
  entriesBody,
  envelopeBody,
  raygunAuth,
  rumBody,
  sentryAuth,
  sentryEnvelopes,
  storeBody,
} from "./hostile-arbitraries";
import { type Protocol, type VictimFigures, VictimTraffic } from "./victims";

/** Generated requests per route over HTTP (in process it is 3,000–6,000 per route). */
const HTTP_RUNS = Number(process.env.RELIABILITY_HTTP_RUNS ?? 200);
const REQUEST_BUDGET_MS = 5_000;
/** Moving up to 20 MiB through wrangler's proxy adds to a case's in-process budget. */
const HTTP_SLACK_MS = 2_000;
const VICTIM_EVERY = 10;
/** The generated samples' seed (printed with the figures, so a failing run can be replayed). */
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31);

interface Project {
  id: string;
  key: string;
}

const tally = {
  raygun: {
    inputs: 0,
    unsendable: 0,
    fivexx: 0,
    crashes: 0,
    slowestRequestMs: 0,
    statuses: {} as Record<string, number>,
  },
  sentry: {
    inputs: 0,
    unsendable: 0,
    fivexx: 0,
    crashes: 0,
    slowestRequestMs: 0,
    statuses: {} as Record<string, number>,
  },
};
const victimFigures: Partial<Record<Protocol, VictimFigures>> = {};
let hostileReadableMs: number | null = null;
let stack: RunningStack;
let A: Project;
let B: Project;
let U: Project;
let origin: Project;
let victims: Record<Protocol, VictimTraffic>;
const failures: string[] = [];

async function admin<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
    // A stalled stack must fail the wait below, not hang it.
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function project(name: string, settings: Record<string, unknown> = {}): Promise<Project> {
  const r = await admin<Project>("/api/v1/projects", { method: "POST", body: JSON.stringify({ name }) });
  if (r.status !== 201) throw new Error(`project creation failed: ${r.status}`);
  const patch = await admin(`/api/v1/projects/${r.body.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify(settings),
  });
  if (patch.status !== 200) throw new Error(`settings patch failed: ${patch.status}`);
  return r.body;
}

const send = (path: string, init: RequestInit = {}) =>
  fetch(`${stack.url}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });

/**
 * One hostile request over HTTP. A request Node itself refuses to build (a header value it
 * rejects) is counted as unsendable, not tried; a connection failure or timeout is a crash.
 */
async function probe(
  protocol: Protocol,
  what: string,
  path: string,
  init: RequestInit | (() => RequestInit),
  budgetMs: number,
) {
  const t = tally[protocol];
  let request: Request;
  try {
    const built = typeof init === "function" ? init() : init;
    request = new Request(`${stack.url}${path}`, { ...built, signal: AbortSignal.timeout(60_000) });
  } catch {
    t.unsendable++;
    return null;
  }
  t.inputs++;
  const start = Date.now();
  let status: number;
  let text = "";
  try {
    const res = await fetch(request);
    text = await res.text();
    status = res.status;
  } catch (err) {
    t.crashes++;
    failures.push(`${what}: no answer (${String((err as Error)?.cause ?? err)})`);
    return null;
  }
  const ms = Date.now() - start;
  t.slowestRequestMs = Math.max(t.slowestRequestMs, ms);
  t.statuses[status] = (t.statuses[status] ?? 0) + 1;
  if (status >= 500) {
    t.fivexx++;
    if (/restarted mid-request/i.test(text)) t.crashes++;
    failures.push(`${what}: ${status} ${text.slice(0, 200)}`);
  } else if (ms > budgetMs) failures.push(`${what}: ${status} after ${ms} ms (budget ${budgetMs} ms)`);
  return status;
}

/** The request of one generated case (built lazily: Node may refuse some header values). */
const init =
  (creds: Credentials, encoded: { body: Body; header?: string }, ct?: string) => (): RequestInit => {
    const headers = new Headers();
    for (const [k, v] of creds.headers) headers.append(k, v);
    if (encoded.header) headers.set("content-encoding", encoded.header);
    if (ct) headers.set("content-type", ct);
    return { method: "POST", headers, body: encoded.body };
  };

beforeAll(async () => {
  stack = await startStack();
  A = await project("http-hostile-a");
  B = await project("http-hostile-b");
  U = await project("http-hostile-unlimited", { rateLimitPerMinute: null, spikeProtection: false });
  origin = await project("http-origin", { allowedOrigins: [ALLOWED_ORIGIN] });
  const unlimited = { rateLimitPerMinute: null, spikeProtection: false };
  victims = {
    raygun: new VictimTraffic(send, await project("http-victim-raygun", unlimited), "raygun"),
    sentry: new VictimTraffic(send, await project("http-victim-sentry", unlimited), "sentry"),
  };
});

afterAll(async () => {
  for (const protocol of ["raygun", "sentry"] as const) {
    console.log(
      `RELIABILITY ${JSON.stringify({
        suite: `hostile-http-${protocol}`,
        protocol,
        run: "http",
        seed: SEED,
        ...tally[protocol],
        ...victimFigures[protocol],
        slowestItemMs: null,
        hostileReadableMs,
      })}`,
    );
  }
  if (process.env.RELIABILITY_STACK_LOG && stack)
    writeFileSync(process.env.RELIABILITY_STACK_LOG, stack.logs());
  await stack?.stop();
});

describe("hostile input over HTTP against wrangler dev", () => {
  it("generated Raygun bodies: never a 5xx, never a dropped connection, each answered within budget", async () => {
    const before = failures.length;
    const routes: [string, fc.Arbitrary<Body>][] = [
      ["/entries", entriesBody],
      ["/entries/bulk", bulkBody],
      ["/events", rumBody],
    ];
    for (const [path, bodies] of routes) {
      const creds = fc
        .oneof({ weight: 9, arbitrary: fc.constant(A) }, fc.constant(U))
        .chain((p) => raygunAuth(p.key, B.key));
      const samples = fc.sample(fc.tuple(creds, bodies, encodings, contentTypes), {
        numRuns: HTTP_RUNS,
        seed: SEED,
      });
      for (const [c, body, e, ct] of samples) {
        if (tally.raygun.inputs % VICTIM_EVERY === 0) victims.raygun.fire();
        const encoded = await encodeBody(body, e as Encoding);
        await probe(
          "raygun",
          `POST ${path} (${e})`,
          c.query ? `${path}?${c.query}` : path,
          init(c, encoded, ct),
          REQUEST_BUDGET_MS,
        );
      }
    }
    expect(failures.slice(before)).toEqual([]);
  });

  it("generated Sentry envelopes and store bodies: never a 5xx, never a dropped connection, each answered within budget", async () => {
    const before = failures.length;
    for (const route of ["envelope", "store"] as const) {
      const request = (p: Project) => {
        const bases = sentryEnvelopes(p.key, p.id);
        const bodies = route === "envelope" ? envelopeBody(bases) : storeBody(bases);
        return fc.tuple(fc.constant(p), sentryAuth(p.key, p.id, B.key, B.id), bodies);
      };
      const requests = fc.oneof({ weight: 24, arbitrary: request(A) }, request(U));
      for (const [[p, c, body], e, ct] of fc.sample(fc.tuple(requests, encodings, contentTypes), {
        numRuns: HTTP_RUNS,
        seed: SEED,
      })) {
        if (tally.sentry.inputs % VICTIM_EVERY === 0) victims.sentry.fire();
        const path = `/api/${c.path ?? p.id}/${route}/`;
        const encoded = await encodeBody(body, e as Encoding);
        await probe(
          "sentry",
          `POST ${path} (${e})`,
          c.query ? `${path}?${c.query}` : path,
          init(c, encoded, ct),
          REQUEST_BUDGET_MS,
        );
      }
    }
    expect(failures.slice(before)).toEqual([]);
  });

  it("the issue #12 cases answer as expected within budget (bombs, floods, store bomb, origins)", async () => {
    const before = failures.length;
    const cases: DoorCase[] = doorCases({
      attacker: U,
      originLocked: origin,
      unknownKey: crypto.randomUUID().replaceAll("-", ""),
    });
    const wrong: string[] = [];
    for (const c of cases) {
      victims[c.protocol].fire();
      const { path, init: req } = await c.build();
      const status = await probe(c.protocol, c.name, path, req, c.budgetMs + HTTP_SLACK_MS);
      if (status === null || !c.expect.includes(status))
        wrong.push(`${c.name}: ${status} (want ${c.expect.join("/")})`);
    }
    expect({ wrong, failures: failures.slice(before) }).toEqual({ wrong: [], failures: [] });
  });

  it("regex-hostile reports (~64 KB each) are answered within budget, stored and searchable", async () => {
    const before = failures.length;
    const marker = `httphostile${crypto.randomUUID().slice(0, 8)}`;
    const reports = regexHostileReports(U, marker);
    const statuses: string[] = [];
    for (const r of reports) {
      victims[r.protocol].fire();
      statuses.push(
        `${r.name} ${await probe(r.protocol, r.name, r.request.path, r.request.init, REQUEST_BUDGET_MS)}`,
      );
    }
    expect(statuses).toEqual(reports.map((r) => `${r.name} ${r.protocol === "raygun" ? 202 : 200}`));
    const sentAt = Date.now();
    let seen = "not asked";
    for (;;) {
      try {
        const r = await admin<{ total: number }>(`/api/v1/projects/${U.id}/search?q=${marker}&limit=1`);
        seen = `${r.body.total}/${reports.length}`;
        if (r.status === 200 && r.body.total === reports.length) break;
      } catch (err) {
        seen = `search failed: ${String(err)}`;
      }
      if (Date.now() - sentAt > 90_000) throw new Error(`hostile reports searchable after 90 s: ${seen}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    hostileReadableMs = Date.now() - sentAt;
    expect(failures.slice(before)).toEqual([]);
  });

  it("the stack is still up, and every victim event sent in between is readable: 0 lost", async () => {
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    for (const protocol of ["raygun", "sentry"] as const) {
      const figures = await victims[protocol].account(admin, 60_000);
      victimFigures[protocol] = figures;
      // wrangler's proxy answers this when the runtime went down under a request: a crash.
      tally[protocol].crashes += figures.refusals.filter((r) => /restarted mid-request/i.test(r)).length;
    }
    expect({
      raygun: [victimFigures.raygun?.victimLost, victimFigures.raygun?.victimRefused],
      sentry: [victimFigures.sentry?.victimLost, victimFigures.sentry?.victimRefused],
    }).toEqual({ raygun: [0, 0], sentry: [0, 0] });
    expect(victimFigures.raygun!.victimSent + victimFigures.sentry!.victimSent).toBeGreaterThan(20);
  });
});
