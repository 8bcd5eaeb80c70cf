// The compatibility scenario every client runs (see clients/): an error raised two calls deep, twice
// with different input (one group), a different error once (another group), optionally a message,
// with user, tags, release, environment and a breadcrumb. `verifyScenario` reads what a user sees
// through the API and returns the list of checks that held; any check that fails fails the test.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { adminApi, eventually } from "../e2e/client";

export interface Expectation {
  /** The project the client sent to (one per client). */
  projectId: string;
  /** Exception type of the repeated error, and the function that raised it (the culprit). */
  errorType: string;
  raisingFunction: string;
  /** The caller of `raisingFunction`, in-app as well. */
  callerFunction: string;
  /** Exception type and raising function of the different error. */
  otherType: string;
  otherFunction: string;
  /** Substring of the repeated error's message. */
  messageContains: string;
  /** Set when the client sends a plain message event ("compat message"). */
  message?: string;
  user: { id: string; email?: string };
  /** Tags the client set, as the canonical event keeps them. */
  tags: Record<string, string>;
  release: string;
  /** Null when the SDK has no environment (Raygun). */
  environment: string | null;
  /** Breadcrumb message the client recorded; null when the SDK has none. */
  breadcrumb: string | null;
  /** Capture the raw payload of the repeated error as a fixture at this path (repo-relative). */
  fixture?: string;
}

interface Group {
  id: string;
  type: string | null;
  message: string;
  culprit: string | null;
  count: number;
  lastEventId: string | null;
}

interface Frame {
  function: string | null;
  filename: string | null;
  module: string | null;
  inApp: boolean | null;
}

interface Detail {
  event: {
    type: string | null;
    message: string;
    release: string | null;
    environment: string | null;
    user: { id?: string | null; email?: string | null } | null;
    tags: Record<string, string>;
    breadcrumbs: { message: string | null }[];
    exceptions: { type: string | null; frames: Frame[] }[];
  };
  raw: unknown;
}

const root = join(import.meta.dirname, "..", "..");

/** Frames of the top exception with the SDK's or the rules' in-app flag. */
function inAppFunctions(d: Detail): string[] {
  const top = d.event.exceptions.at(-1);
  return (top?.frames ?? []).filter((f) => f.inApp === true).map((f) => f.function ?? "?");
}

/** Function names compared without a class or package prefix (`Check.parsePort` → `parsePort`). */
const bare = (fn: string) => fn.replace(/^.*[.:]/, "");

export async function verifyScenario(x: Expectation): Promise<string[]> {
  const verified: string[] = [];
  const wanted = x.message ? 3 : 2;
  const groups = await eventually(async () => {
    const r = await adminApi<{ groups: Group[] }>(`/api/v1/projects/${x.projectId}/groups`);
    const total = r.body.groups.reduce((n, g) => n + g.count, 0);
    return r.body.groups.length >= wanted && total >= wanted + 1 ? r.body.groups : null;
  }, 45_000);
  // By message too: some SDKs give both errors one type (a Rust panic is "panic").
  const repeated = groups.find((g) => g.type === x.errorType && g.message.includes(x.messageContains));
  const other = groups.find((g) => g.type === x.otherType && g !== repeated);
  expect(repeated, `a group of type ${x.errorType} in ${JSON.stringify(groups)}`).toBeDefined();
  expect(other, `a group of type ${x.otherType} in ${JSON.stringify(groups)}`).toBeDefined();
  expect(repeated!.count).toBe(2);
  expect(other!.count).toBe(1);
  expect(repeated!.id).not.toBe(other!.id);
  verified.push("grouping");
  verified.push("title");
  expect(bare(repeated!.culprit?.split(" ")[0] ?? "")).toBe(x.raisingFunction);
  expect(bare(other!.culprit?.split(" ")[0] ?? "")).toBe(x.otherFunction);
  verified.push("culprit");
  if (x.message) {
    const msg = groups.find((g) => g.message.includes(x.message!));
    expect(msg, "a group for the message").toBeDefined();
    expect(msg!.type).toBeNull();
    verified.push("message");
  }

  // The group's counters are written by the processor; the event detail is served from the event
  // index once the indexer has run (404 until then).
  const d = await eventually(async () => {
    const r = await adminApi<Detail>(`/api/v1/projects/${x.projectId}/events/${repeated!.lastEventId}`);
    return r.status === 404 ? null : r;
  }, 30_000);
  expect(d.status).toBe(200);
  const ev = d.body.event;
  const inApp = inAppFunctions(d.body).map(bare);
  expect(inApp.at(-1)).toBe(x.raisingFunction);
  expect(inApp.at(-2)).toBe(x.callerFunction);
  // Whatever the platform's runtime contributed stays out of the application's frames.
  expect(inApp.every((fn) => !/^(?:parseInt|forInputString|gopanic|panicdivide)$/.test(fn))).toBe(true);
  verified.push("in-app frames");
  expect(ev.user?.id).toBe(x.user.id);
  if (x.user.email) expect(ev.user?.email).toBe(x.user.email);
  verified.push("user");
  for (const [k, v] of Object.entries(x.tags)) expect(ev.tags[k], `tag ${k}`).toBe(v);
  verified.push("tags");
  expect(ev.release).toBe(x.release);
  verified.push("release");
  if (x.environment !== null) {
    expect(ev.environment).toBe(x.environment);
    verified.push("environment");
  }
  if (x.breadcrumb !== null) {
    expect(ev.breadcrumbs.map((b) => b.message)).toContain(x.breadcrumb);
    verified.push("breadcrumbs");
  }
  if (x.fixture && process.env.SLUICE_COMPAT_CAPTURE === "1") writeFixture(x.fixture, d.body.raw);
  return verified;
}

/** Accepted items per category, and every drop, for the project (nothing the SDK sent may be invalid). */
export async function outcomes(
  projectId: string,
): Promise<{ accepted: Record<string, number>; dropped: string[] }> {
  const r = await adminApi<{
    totals: { category: string; outcome: string; reason: string; quantity: number }[];
  }>(`/api/v1/projects/${projectId}/stats`);
  expect(r.status).toBe(200);
  const accepted: Record<string, number> = {};
  const dropped: string[] = [];
  for (const s of r.body.totals) {
    if (s.outcome === "accepted") accepted[s.category] = (accepted[s.category] ?? 0) + s.quantity;
    else if (s.outcome !== "client_discard") dropped.push(`${s.category}:${s.outcome}:${s.reason}`);
  }
  return { accepted, dropped };
}

/** Writes a payload captured from a real SDK as a fixture for the normalizers' unit tests. */
export function writeFixture(path: string, raw: unknown): void {
  const file = join(root, path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
}
