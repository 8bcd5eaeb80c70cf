// Small helpers for end-to-end tests: the admin API and the admin CLI of the running stack, and polling.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { poll } from "../poll";

export const stack = () => inject("stack");

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "..", "..", "scripts", "sluice.mjs");

/** Runs the admin CLI (scripts/sluice.mjs) as given; a failing command returns its exit code. */
export async function sluiceRaw(args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs the admin CLI against the stack (its URL and admin token). */
export function sluice(...args: string[]) {
  const s = stack();
  return sluiceRaw([...args, "--url", s.url], { ...process.env, ADMIN_TOKEN: s.adminToken });
}

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
