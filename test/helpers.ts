// Helpers for workerd integration tests: create a project through the real API, send reports
// through the real edge, and wait for the pipeline (real local queues) to store them.
import { exports } from "cloudflare:workers";
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

/** Polls `check` until it returns a truthy value (the queues deliver asynchronously). */
export function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  return poll(check, timeoutMs, 50);
}
