// Helpers for workerd integration tests: create a project through the real API, send reports
// through the real edge, and wait for the pipeline (real local queues) to store them.
import { env, exports } from "cloudflare:workers";
import { poll } from "./poll";

export const ADMIN = { authorization: "Bearer test-admin-token" };
export const BASE = "http://sluice.test";

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export async function api<T = unknown>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await call(path, {
    ...init,
    headers: { ...ADMIN, "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export interface TestProject {
  id: string;
  key: string;
  dsn: string;
}

export async function createTestProject(name = "test"): Promise<TestProject> {
  const res = await api<TestProject>("/api/v1/projects", { method: "POST", body: JSON.stringify({ name }) });
  if (res.status !== 201)
    throw new Error(`project creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Sets a project's `retentionDays` through the settings API (throws unless it answers 200). */
export async function setRetention(p: TestProject, days: number): Promise<void> {
  const r = await api(`/api/v1/projects/${p.id}/settings`, {
    method: "PATCH",
    body: JSON.stringify({ retentionDays: days }),
  });
  if (r.status !== 200) throw new Error(`settings answered ${r.status}: ${JSON.stringify(r.body)}`);
}

/** Polls `check` until it returns a truthy value (the queues deliver asynchronously). */
export function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  return poll(check, timeoutMs, 50);
}

/** The metadata shard database holding a project's groups, aggregates, outcomes and ledger. */
export async function metaDbOf(projectId: string | number): Promise<D1Database> {
  const { projectDb } = await import("../shared/db/shards");
  const db = await projectDb(env, projectId);
  if (!db) throw new Error(`project ${projectId} not in the control database`);
  return db;
}

/** The binding name of the metadata shard holding a project ("DB_SHARD_<n>", or "DB" with no shards). */
export async function shardBindingOf(projectId: string | number): Promise<string> {
  const row = await env.DB.prepare("SELECT shard FROM projects WHERE id = ?")
    .bind(Number(projectId))
    .first<{ shard: number }>();
  if (!row) throw new Error(`project ${projectId} not in the control database`);
  const name = `DB_SHARD_${row.shard}`;
  return name in env ? name : "DB";
}
