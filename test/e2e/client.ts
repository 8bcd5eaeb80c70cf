// Small helpers for end-to-end tests: the admin API of the running stack and polling.
import { inject } from "vitest";
import { poll } from "../poll";

export const stack = () => inject("stack");

export async function adminApi<T = unknown>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const s = stack();
  const res = await fetch(`${s.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${s.adminToken}`,
      "content-type": "application/json",
      ...(init.headers ?? {}),
    },
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

export async function createProject(name: string) {
  const r = await adminApi<{ id: string; key: string; dsn: string }>("/api/v1/projects", {
    method: "POST",
    body: JSON.stringify({ name }),
  });
  if (r.status !== 201) throw new Error(`create project: ${r.status}`);
  return r.body;
}

export function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  return poll(check, timeoutMs, 200);
}
