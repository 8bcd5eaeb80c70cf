// Every console route (API and dashboard) answers bad input with a 4xx and a message: malformed
// JSON, wrong content types, prototype names as lookup keys (range=constructor), bad numbers and
// ids. Never a 5xx, never an error log.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { login } from "../../test/console-login";
import { ADMIN, BASE, call, createTestProject, type TestProject, waitFor } from "../../test/helpers";

type Case = [label: string, path: string, init?: RequestInit];

const json = (method: string, body: string, type = "application/json"): RequestInit => ({
  method,
  headers: { "content-type": type },
  body,
});

/** Lookup keys that exist on every object's prototype chain. */
const PROTO = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
const HUGE_ID = "9".repeat(400);

function apiCases(p: string, g: string): Case[] {
  const settings = `/api/v1/projects/${p}/settings`;
  const group = `/api/v1/projects/${p}/groups/${g}`;
  return [
    ["settings: malformed JSON", settings, json("PATCH", '{"retentionDays":')],
    ["settings: text/plain", settings, json("PATCH", '{"retentionDays":5}', "text/plain")],
    ["settings: form body", settings, json("PATCH", "retentionDays=5", "application/x-www-form-urlencoded")],
    ["settings: JSON array", settings, json("PATCH", "[1,2]")],
    ["settings: JSON null", settings, json("PATCH", "null")],
    ["settings: JSON string", settings, json("PATCH", '"x"')],
    ["settings: wrong type", settings, json("PATCH", '{"retentionDays":"x"}')],
    ["settings: __proto__ key", settings, json("PATCH", '{"__proto__":{"retentionDays":1}}')],
    ["settings: constructor key", settings, json("PATCH", '{"constructor":{"name":"x"}}')],
    ["settings: nested __proto__", settings, json("PATCH", '{"sampleRates":{"__proto__":{"error":0}}}')],
    ["settings: deep nesting", settings, json("PATCH", `${"[".repeat(5000)}${"]".repeat(5000)}`)],
    ["create: malformed JSON", "/api/v1/projects", json("POST", "{name:")],
    ["create: text/plain", "/api/v1/projects", json("POST", '{"name":"x"}', "text/plain")],
    ["create: name object", "/api/v1/projects", json("POST", '{"name":{}}')],
    ["group status: malformed", group, json("PATCH", "{")],
    ...PROTO.map((s): Case => [`group status ${s}`, group, json("PATCH", JSON.stringify({ status: s }))]),
    ["replay: malformed", "/api/v1/dead-letters/replay", json("POST", "{")],
    ["replay: ids not array", "/api/v1/dead-letters/replay", json("POST", '{"ids":"x"}')],
    ["replay: text/plain", "/api/v1/dead-letters/replay", json("POST", "{}", "text/plain")],
    ...PROTO.map((v): Case => [`stats interval=${v}`, `/api/v1/projects/${p}/stats?interval=${v}`]),
    ["stats from=abc", `/api/v1/projects/${p}/stats?from=abc`],
    ["stats from huge", `/api/v1/projects/${p}/stats?from=99999999999999999999`],
    ["stats to huge", `/api/v1/projects/${p}/stats?to=${"9".repeat(30)}`],
    ["stats from > to", `/api/v1/projects/${p}/stats?from=2000&to=1000`],
    ["rum from huge", `/api/v1/projects/${p}/rum/pages?from=99999999999999999999`],
    ["releases to huge", `/api/v1/projects/${p}/releases?to=99999999999999999999`],
    ["search from huge", `/api/v1/projects/${p}/search?from=99999999999999999999`],
    ["search from=abc", `/api/v1/projects/${p}/search?from=abc`],
    ["search limit=abc", `/api/v1/projects/${p}/search?limit=abc`],
    ["search cursor garbage", `/api/v1/projects/${p}/search?cursor=%25%25`],
    ["search bad syntax", `/api/v1/projects/${p}/search?q=%22open`],
    ...PROTO.map((v): Case => [`groups status=${v}`, `/api/v1/projects/${p}/groups?status=${v}`]),
    ["groups limit=abc", `/api/v1/projects/${p}/groups?limit=abc`],
    ["groups limit=1e999", `/api/v1/projects/${p}/groups?limit=1e999`],
    ["groups cursor garbage", `/api/v1/projects/${p}/groups?cursor=!!!`],
    ["group events cursor", `${group}/events?cursor=${btoa("x:y")}`],
    ["histogram days=constructor", `${group}/histogram?days=constructor`],
    ["histogram days=0", `${group}/histogram?days=0`],
    ["dead letters limit", "/api/v1/dead-letters?limit=constructor"],
    ["dead letters pending", "/api/v1/dead-letters?pending=constructor"],
    ["project id huge", `/api/v1/projects/${HUGE_ID}`],
    ["project id 20 digits", "/api/v1/projects/99999999999999999999"],
    ["settings id huge", `/api/v1/projects/${HUGE_ID}/settings`],
    ["rotate id huge", `/api/v1/projects/${HUGE_ID}/keys/rotate`, { method: "POST" }],
    ["stats id huge", `/api/v1/projects/${HUGE_ID}/stats`],
    ["event id bad", `/api/v1/projects/${p}/events/nothex`],
    ["group id bad", `/api/v1/projects/${p}/groups/constructor`],
    ["no route", "/api/v1/constructor"],
  ];
}

function uiCases(p: string, g: string): Case[] {
  const ranges = ["outcomes", "rum", "releases", `groups/${g}`];
  return [
    ...ranges.flatMap((page) =>
      [...PROTO, "1y"].map((v): Case => [`${page} range=${v}`, `/ui/projects/${p}/${page}?range=${v}`]),
    ),
    ...PROTO.map((v): Case => [`issues status=${v}`, `/ui/projects/${p}?status=${v}`]),
    ["issues cursor garbage", `/ui/projects/${p}?cursor=!!!`],
    ["search bad syntax", `/ui/projects/${p}/search?q=%22open`],
    ["search cursor garbage", `/ui/projects/${p}/search?q=x&cursor=%25%25`],
    ["project id huge", `/ui/projects/${HUGE_ID}`],
    ["project outcomes id huge", `/ui/projects/${HUGE_ID}/outcomes`],
    ["event id bad", `/ui/projects/${p}/events/constructor`],
    ["setup id huge", `/ui/projects/${HUGE_ID}/setup`],
    ["unknown page", "/ui/constructor"],
  ];
}

/** What is wrong with the answer to a bad request, or null for a 4xx whose body says something. */
async function problem(label: string, res: Response): Promise<string | null> {
  const text = await res.text();
  if (res.status < 400 || res.status > 499) return `${label} → ${res.status}`;
  const type = res.headers.get("content-type") ?? "";
  const said = type.includes("json")
    ? /\w/.test((JSON.parse(text) as { error?: string }).error ?? "")
    : type.includes("html")
      ? /class="(error-message|err)"[^>]*>[^<]*\w/.test(text)
      : text.trim() !== "";
  return said ? null : `${label} → ${res.status} without a message`;
}

describe("bad requests to the console", () => {
  let project: TestProject;
  let groupId: string;
  let cookie: string;
  const errors: unknown[][] = [];

  beforeAll(async () => {
    project = await createTestProject("bad-requests");
    const sent = await call(`/entries?apikey=${project.key}`, {
      method: "POST",
      body: JSON.stringify({
        occurredOn: new Date().toISOString(),
        details: { error: { className: "BadRequestProbe", message: "probe" } },
      }),
    });
    expect(sent.status).toBe(202);
    groupId = await waitFor(async () => {
      const res = await call(`/api/v1/projects/${project.id}/groups`, { headers: ADMIN });
      return ((await res.json()) as { groups: { id: string }[] }).groups[0]?.id;
    });
    cookie = await login();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  const watchErrors = () =>
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      errors.push(args);
    });

  it("every API route answers bad input with a 4xx and a message", async () => {
    watchErrors();
    const problems = [];
    for (const [label, path, init = {}] of apiCases(project.id, groupId)) {
      const headers = { ...ADMIN, ...(init.headers as Record<string, string>) };
      problems.push(await problem(label, await call(path, { ...init, headers })));
    }
    expect(problems.filter(Boolean)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("every route of the OpenAPI document refuses generated bad input: ids, enums, numbers, times, bodies", async () => {
    watchErrors();
    type Param = { in: string; name: string; schema: { type?: string; enum?: unknown[] } };
    type Op = { parameters?: Param[]; requestBody?: unknown };
    const doc = (await (await call("/api/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, Op>>;
    };
    const good: Record<string, string> = { id: project.id, groupId, eventId: "0".repeat(32) };
    const fill = (path: string, bad?: string) =>
      path.replace(/\{(\w+)\}/g, (_, name: string) => (name === bad ? "constructor" : good[name]!));
    const problems = [];
    const untested = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const cases: Case[] = [];
        for (const p of op.parameters ?? []) {
          if (p.in === "path") cases.push([`${method} ${path} ${p.name}`, fill(path, p.name), { method }]);
          const typed = p.schema.enum || p.schema.type === "integer" || /^(from|to)$/.test(p.name);
          if (p.in === "query" && typed)
            cases.push([`${method} ${path} ?${p.name}`, `${fill(path)}?${p.name}=constructor`, { method }]);
        }
        if (op.requestBody) {
          cases.push([`${method} ${path} bad JSON`, fill(path), json(method, "{")]);
          cases.push([`${method} ${path} text/plain`, fill(path), json(method, "{}", "text/plain")]);
        }
        if (cases.length === 0) untested.push(`${method} ${path}`);
        for (const [label, url, init = {}] of cases) {
          const headers = { ...ADMIN, ...(init.headers as Record<string, string>) };
          problems.push(
            await problem(label, await call(url, { ...init, method: method.toUpperCase(), headers })),
          );
        }
      }
    }
    expect(problems.filter(Boolean)).toEqual([]);
    // Only routes without any input have nothing to get wrong.
    expect(untested.sort()).toEqual(["get /api/v1/projects"]);
    expect(errors).toEqual([]);
  });

  it("every dashboard page answers bad input with a 4xx and a message", async () => {
    watchErrors();
    const problems = [];
    for (const [label, path, init = {}] of uiCases(project.id, groupId)) {
      const headers = { cookie, ...(init.headers as Record<string, string>) };
      problems.push(await problem(label, await call(path, { ...init, headers, redirect: "manual" })));
    }
    expect(problems.filter(Boolean)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("dashboard forms answer malformed bodies with a 4xx and a message", async () => {
    watchErrors();
    const page = await call(`/ui/projects/${project.id}/setup`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(csrf).toBeTruthy();
    const form = (body: Record<string, string>) => ({
      method: "POST",
      headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrf!, ...body }).toString(),
      redirect: "manual" as const,
    });
    const broken = {
      method: "POST",
      headers: { cookie, origin: BASE, "content-type": "multipart/form-data; boundary=zz" },
      body: '--zz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nabc',
      redirect: "manual" as const,
    };
    const status = `/ui/projects/${project.id}/groups/${groupId}/status`;
    const cases: Case[] = [
      ["create: empty name", "/ui/projects", form({ name: "" })],
      ["create: name too long", "/ui/projects", form({ name: "x".repeat(500) })],
      ["create: broken multipart", "/ui/projects", broken],
      ...PROTO.map((s): Case => [`status ${s}`, status, form({ status: s })]),
      ["status: broken multipart", status, broken],
      ["login: broken multipart", "/ui/login", { ...broken, headers: { ...broken.headers, cookie: "" } }],
    ];
    const problems = [];
    for (const [label, path, init] of cases) problems.push(await problem(label, await call(path, init)));
    expect(problems.filter(Boolean)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
