#!/usr/bin/env node
// Sluice admin CLI: manages projects, keys, settings and reads groups and dead letters through the
// console's /api/v1 API, for a local stack or a deployed one.
//
//   npm run sluice -- <command> [args] [--url URL] [--token TOKEN] [--json]
//   URL:   --url, else $SLUICE_URL, else http://127.0.0.1:8787
//   TOKEN: --token, else $ADMIN_TOKEN, else dev-admin-token (local development only)

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs as nodeParseArgs } from "node:util";

const GLOBAL_OPTIONS = `Options (every command):
  --url URL      console base URL (default $SLUICE_URL or http://127.0.0.1:8787)
  --token TOKEN  admin token (default $ADMIN_TOKEN or dev-admin-token)
  --json         print the API's JSON instead of a table
  -h, --help     this help`;

/** Each command: its argument synopsis, one line on what it does, and its own options. */
const SPECS = {
  "projects:create": { max: 1, args: "<name>", about: "create a project; prints its id, ingest key and DSN" },
  "projects:list": { max: 0, args: "", about: "list projects with their keys" },
  "projects:move": {
    max: 1,
    args: "<projectId> --shard N",
    about:
      "move a project's groups and aggregates to metadata shard N; run it again if it stops half way (docs/operating.md)",
    options: { shard: { type: "string" } },
  },
  "keys:rotate": { max: 1, args: "<projectId>", about: "issue a new ingest key (the old one stops working)" },
  "settings:get": { max: 1, args: "<projectId>", about: "print a project's settings (JSON)" },
  "settings:set": {
    max: 2,
    args: "<projectId> <json | @file | ->",
    about: `patch settings, e.g. '{"rateLimitPerMinute":600}'`,
  },
  "groups:list": {
    max: 1,
    args: "<projectId> [--status active|resolved|ignored]",
    about: "list error groups",
    options: { status: { type: "string" } },
  },
  "alerts:list": { max: 1, args: "<projectId>", about: "list a project's alert rules" },
  "alerts:create": {
    max: 2,
    args: "<projectId> <json | @file | ->",
    about: `create an alert rule, e.g. '{"name":"ops","triggers":["new_issue"],"target":{"type":"webhook","url":"https://..."}}'`,
  },
  "alerts:delete": { max: 2, args: "<projectId> <ruleId>", about: "delete an alert rule" },
  "alerts:test": { max: 2, args: "<projectId> <ruleId>", about: "send a test alert to a rule's target" },
  "alerts:deliveries": { max: 2, args: "<projectId> <ruleId>", about: "a rule's delivery log" },
  "dlq:list": { max: 0, args: "", about: "list dead-lettered messages" },
  "dlq:replay": {
    args: "[id ...]",
    about: "re-send pending dead letters (all, or the given ids) to their queues",
  },
};

const USAGE = `Usage: npm run sluice -- <command> [args] [--url URL] [--token TOKEN] [--json]

Commands:
${Object.entries(SPECS)
  .map(([name, s]) => `  ${`${name} ${s.args}`.padEnd(44)} ${s.about}`)
  .join("\n")}

${GLOBAL_OPTIONS}

\`npm run sluice -- <command> --help\` describes one command.`;

function commandUsage(name) {
  const s = SPECS[name];
  return `Usage: npm run sluice -- ${name} ${s.args}\n\n${s.about}\n\n${GLOBAL_OPTIONS}`;
}

const COMMON_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/**
 * Parses argv strictly (node:util parseArgs): an unknown option, an option without its value or a
 * value given to a boolean is an error, never silently dropped — a typo such as `--tokn` must not
 * send the command to localhost with the development token.
 */
export function parseArgs(argv) {
  // A lenient first pass only finds the command (so that `--url X cmd` works); the strict pass
  // then knows which options that command takes.
  const allOptions = Object.assign({}, COMMON_OPTIONS, ...Object.values(SPECS).map((s) => s.options ?? {}));
  const command = nodeParseArgs({ args: argv, options: allOptions, strict: false, allowPositionals: true })
    .positionals[0];
  const spec = command && Object.hasOwn(SPECS, command) ? SPECS[command] : undefined;
  try {
    const { values, positionals } = nodeParseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...(spec?.options ?? {}) },
      strict: true,
      allowPositionals: true,
    });
    return { positional: positionals, flags: values };
  } catch (err) {
    throw new CliError(`${err.message}\n\n${spec ? commandUsage(command) : USAGE}`);
  }
}

class CliError extends Error {}

function need(value, what) {
  if (value === undefined || value === "") throw new CliError(`missing ${what}\n\n${USAGE}`);
  return value;
}

async function api(opts, method, path, body) {
  const url = new URL(path, opts.url.replace(/\/?$/, "/")).toString();
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${opts.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${opts.url}: ${err.cause?.message ?? err.message}`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!res.ok) throw new CliError(`${method} ${path}: ${res.status} ${json?.error ?? text}`);
  return json;
}

function table(rows, columns) {
  if (rows.length === 0) return "(none)";
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "").length)));
  const line = (vals) =>
    vals
      .map((v, i) => String(v ?? "").padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => r[c]))),
  ].join("\n");
}

function readJsonArg(arg, what = "settings") {
  const text =
    arg === "-" ? readFileSync(0, "utf8") : arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} must be JSON: ${err.message}`);
  }
}

const rulesPath = (id) => `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/alert-rules`;

const COMMANDS = {
  async "projects:create"(o, [name]) {
    return api(o, "POST", "api/v1/projects", { name: need(name, "<name>") });
  },
  async "projects:list"(o) {
    const { projects } = await api(o, "GET", "api/v1/projects");
    return o.json ? { projects } : table(projects, ["id", "name", "shard", "key", "dsn"]);
  },
  async "projects:move"(o, [id]) {
    const shard = need(o.flags.shard, "--shard N");
    if (!/^\d+$/.test(shard))
      throw new CliError(`--shard must be a shard number, not ${JSON.stringify(shard)}`);
    const path = `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/shard`;
    // A big project takes several requests (each stops at its share of D1 calls): go on until done.
    let r;
    let from;
    const total = { rowsMoved: 0, requests: 0 };
    do {
      r = await api(o, "POST", path, { shard: Number(shard) });
      from ??= r.from; // later requests find the project on its new shard already
      total.rowsMoved += r.rowsMoved;
      total.requests++;
      if (!r.done && !o.json)
        process.stderr.write(`project ${id}: ${total.rowsMoved} row(s) moved so far…\n`);
    } while (!r.done && total.requests < 10_000);
    if (!r.done)
      throw new CliError(
        `project ${id}: the move is not done after ${total.requests} requests; run it again`,
      );
    return o.json
      ? { ...r, from, ...total }
      : `project ${id}: shard ${from} -> ${r.to}; ${total.rowsMoved} row(s) moved`;
  },
  async "keys:rotate"(o, [id]) {
    const p = await api(
      o,
      "POST",
      `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/keys/rotate`,
    );
    return o.json ? p : `project ${p.id}: new ingest key ${p.key}\nDSN ${p.dsn}`;
  },
  async "settings:get"(o, [id]) {
    return api(o, "GET", `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/settings`);
  },
  async "settings:set"(o, [id, json]) {
    const patch = readJsonArg(need(json, "<json>"));
    return api(o, "PATCH", `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/settings`, patch);
  },
  async "groups:list"(o, [id]) {
    const qs = o.flags.status ? `?status=${encodeURIComponent(o.flags.status)}` : "";
    const body = await api(
      o,
      "GET",
      `api/v1/projects/${encodeURIComponent(need(id, "<projectId>"))}/groups${qs}`,
    );
    if (o.json) return body;
    return table(
      body.groups.map((g) => ({
        ...g,
        message: g.message.length > 60 ? `${g.message.slice(0, 57)}...` : g.message,
      })),
      ["id", "status", "count", "type", "message", "lastSeen"],
    );
  },
  async "alerts:list"(o, [id]) {
    const body = await api(o, "GET", `${rulesPath(id)}`);
    if (o.json) return body;
    return table(
      body.rules.map((r) => ({
        ...r,
        triggers: r.triggers.join(","),
        target: `${r.target.type} ${r.target.url}`,
      })),
      ["id", "name", "triggers", "target", "cooldownMinutes", "enabled"],
    );
  },
  async "alerts:create"(o, [id, json]) {
    return api(o, "POST", rulesPath(id), readJsonArg(need(json, "<json>"), "the rule"));
  },
  async "alerts:delete"(o, [id, ruleId]) {
    await api(o, "DELETE", `${rulesPath(id)}/${encodeURIComponent(need(ruleId, "<ruleId>"))}`);
    return o.json ? { deleted: ruleId } : `deleted alert rule ${ruleId}`;
  },
  async "alerts:test"(o, [id, ruleId]) {
    const body = await api(
      o,
      "POST",
      `${rulesPath(id)}/${encodeURIComponent(need(ruleId, "<ruleId>"))}/test`,
    );
    return o.json ? body : `test alert queued: delivery ${body.deliveryId}`;
  },
  async "alerts:deliveries"(o, [id, ruleId]) {
    const body = await api(
      o,
      "GET",
      `${rulesPath(id)}/${encodeURIComponent(need(ruleId, "<ruleId>"))}/deliveries`,
    );
    if (o.json) return body;
    return table(body.deliveries, [
      "id",
      "trigger",
      "status",
      "attempts",
      "lastStatusCode",
      "lastError",
      "createdAt",
    ]);
  },
  async "dlq:list"(o) {
    const body = await api(o, "GET", "api/v1/dead-letters");
    if (o.json) return body;
    const rows = body.deadLetters ?? [];
    return table(rows, ["id", "queue", "reason", "attempts", "createdAt", "replayedAt"]);
  },
  async "dlq:replay"(o, ids) {
    const body = await api(o, "POST", "api/v1/dead-letters/replay", ids.length > 0 ? { ids } : {});
    if (o.json) return body;
    const skipped = body.skipped.map((s) => `  skipped ${s.id}: ${s.reason}`).join("\n");
    return `replayed ${body.replayed} dead letter(s)${skipped ? `\n${skipped}` : ""}`;
  },
};

export async function main(argv, env = process.env) {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof CliError) return { err: `sluice: ${err.message}`, code: 2 };
    throw err;
  }
  const { positional, flags } = parsed;
  const [command, ...args] = positional;
  if (!command) return flags.help ? { out: USAGE, code: 0 } : { err: USAGE, code: 2 };
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) return { err: `sluice: unknown command: ${command}\n\n${USAGE}`, code: 2 };
  if (flags.help) return { out: commandUsage(command), code: 0 };
  const max = SPECS[command].max ?? Number.POSITIVE_INFINITY;
  if (args.length > max) {
    return { err: `sluice: unexpected argument: ${args[max]}\n\n${commandUsage(command)}`, code: 2 };
  }
  const opts = {
    url: flags.url || env.SLUICE_URL || "http://127.0.0.1:8787",
    token: flags.token || env.ADMIN_TOKEN || "dev-admin-token",
    json: Boolean(flags.json),
    flags,
  };
  try {
    const result = await run(opts, args);
    return { out: typeof result === "string" ? result : JSON.stringify(result, null, 2), code: 0 };
  } catch (err) {
    if (err instanceof CliError) return { err: `sluice: ${err.message}`, code: 1 };
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { out, err, code } = await main(process.argv.slice(2));
  if (out) console.log(out);
  if (err) console.error(err);
  process.exitCode = code;
}
