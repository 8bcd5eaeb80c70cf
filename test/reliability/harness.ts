// Shared plumbing of the workerd reliability suites: requests go straight into the pipeline test
// worker's fetch handler (the real edge → console routing, real local Queues/D1/R2), and every
// suite prints its figures as one `RELIABILITY {...}` JSON line.
//
// Why not `exports.default.fetch` (test/helpers.ts `call`)? Under vitest-pool-workers 0.15.1 each
// loopback call gets slower than the previous one (≈5 ms per call for the first 200, ≈350 ms after
// 1,000), which makes a 10,000-request property run impossible. The handler called directly is the
// same code path minus that loopback.

import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../pipeline-worker";
import { poll } from "../poll";

export const BASE = "http://sluice.test";
export const ADMIN_TOKEN = "test-admin-token";
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface Project {
  id: string;
  key: string;
  dsn: string;
}

/** Every response body seen by a suite that asked for it (the security suite scans them). */
export type ResponseTap = (method: string, path: string, status: number, body: string) => void;
let tap: ResponseTap | null = null;
export function tapResponses(fn: ResponseTap | null): void {
  tap = fn;
}

/**
 * One request through the pipeline worker's fetch handler; a thrown exception rejects. `bindings`
 * replaces the environment (e.g. a D1 binding that counts queries).
 */
export async function edge(
  path: string,
  init: RequestInit = {},
  bindings: Cloudflare.Env = env,
): Promise<Response> {
  const request = new Request(`${BASE}${path}`, init);
  const res = await worker.fetch(request as never, bindings as never, createExecutionContext());
  if (!tap) return res;
  const text = await res.text();
  tap(request.method, path, res.status, text);
  return new Response(res.status === 204 || res.status === 304 ? null : text, res);
}

/** The worker's bindings with a D1 that counts the statements it runs. */
export function countingD1(): { bindings: Cloudflare.Env; queries(): number } {
  let queries = 0;
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "prepare" || prop === "exec") queries++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { bindings: { ...env, DB: db }, queries: () => queries };
}

/** An admin API call; the body is parsed when it is JSON. */
export async function api<T = unknown>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await edge(path, {
    ...init,
    headers: { ...ADMIN, "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T };
}

/** Creates a project; `unlimited` turns quotas off so every valid item is accepted. */
export async function createProject(name: string, unlimited = false): Promise<Project> {
  const res = await api<Project>("/api/v1/projects", { method: "POST", body: JSON.stringify({ name }) });
  if (res.status !== 201)
    throw new Error(`project creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  if (unlimited) {
    const patch = await api(`/api/v1/projects/${res.body.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ rateLimitPerMinute: null, spikeProtection: false }),
    });
    if (patch.status !== 200) throw new Error(`settings patch failed: ${patch.status}`);
  }
  return res.body;
}

/** Polls `check` until it returns a truthy value (queues deliver asynchronously). */
export function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<T> {
  return poll(check, timeoutMs, 100, what);
}

/** A property's run count scaled by RELIABILITY_SCALE (the full suite runs at 1). */
export function runs(n: number): number {
  const scale = Number(env.RELIABILITY_SCALE ?? "1");
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** Prints one machine-readable figures line for the suite. */
export function reportFigures(suite: string, figures: Record<string, unknown>): void {
  console.log(`RELIABILITY ${JSON.stringify({ suite, ...figures })}`);
}

/** Sum of outcome quantities by outcome for a project, through the stats API. */
export async function outcomeTotals(projectId: string): Promise<Record<string, number>> {
  const r = await api<{ totals: { outcome: string; quantity: number }[] }>(
    `/api/v1/projects/${projectId}/stats`,
  );
  const out: Record<string, number> = {};
  for (const t of r.body.totals ?? []) out[t.outcome] = (out[t.outcome] ?? 0) + t.quantity;
  return out;
}

/** Sum of group counts through the groups API (paged until exhausted). */
export async function groupCountSum(projectId: string): Promise<number> {
  let sum = 0;
  let cursor: string | null = null;
  do {
    const page = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const r: { body: { groups: { count: number }[]; next: string | null } } = await api(
      `/api/v1/projects/${projectId}/groups?limit=100${page}`,
    );
    sum += (r.body.groups ?? []).reduce((n, g) => n + g.count, 0);
    cursor = r.body.next ?? null;
  } while (cursor);
  return sum;
}

/** Total search hits for `q` through the search API. */
export async function searchTotal(projectId: string, q: string): Promise<number> {
  const r = await api<{ total: number }>(`/api/v1/projects/${projectId}/search?q=${encodeURIComponent(q)}`);
  if (r.status !== 200) throw new Error(`search answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.total;
}

/** Dead letters recorded in D1 (all, or only those not replayed yet). */
export async function deadLetterRows(
  pending = false,
): Promise<{ id: string; reason: string; queue: string }[]> {
  const sql = `SELECT id, reason, queue FROM dead_letters${pending ? " WHERE replayed_at IS NULL" : ""}`;
  return (await env.DB.prepare(sql).all<{ id: string; reason: string; queue: string }>()).results;
}

/**
 * Watches the console for the pipeline's "will retry"/"retrying" lines (processor and indexer log
 * one per failed attempt), so a drain check knows a retry with backoff is still pending.
 */
export function watchRetries(): { count(): number; lastAt(): number; restore(): void } {
  let count = 0;
  let lastAt = 0;
  const spies = (["warn", "error"] as const).map((level) => {
    const original = console[level].bind(console);
    return vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      if (args.some((a) => /retry/i.test(String(a)))) {
        count++;
        lastAt = Date.now();
      }
      original(...args);
    });
  });
  return {
    count: () => count,
    lastAt: () => lastAt,
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}

/**
 * Waits until the pipeline is idle: `probe()` (a snapshot of what the pipeline writes) has not
 * changed for `quietMs`, and no retry was logged for longer than the longest backoff step a
 * retried message can still be waiting on (16 s), so a failing batch has reached the DLQ.
 */
export async function drained(
  probe: () => Promise<unknown>,
  retries: { lastAt(): number },
  { quietMs = 3_000, backoffMs = 17_000, timeoutMs = 150_000 } = {},
): Promise<void> {
  const start = Date.now();
  let last = "";
  let since = Date.now();
  while (Date.now() - start < timeoutMs) {
    const now = JSON.stringify([await probe(), (await deadLetterRows()).length]);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && Date.now() - retries.lastAt() >= backoffMs) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`pipeline still busy after ${timeoutMs} ms`);
}
