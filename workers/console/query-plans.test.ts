// Every D1 query the console runs (API routes and every dashboard page but search), recorded from real
// requests against real local D1, then checked with EXPLAIN QUERY PLAN: none may scan a table, and
// none may read a per-event table (the FTS5 event index, pointer rows, attachments, segments, the
// message ledger) except by its key or a group's keyset range, and none may read a per-minute
// aggregate (outcomes, RUM pages, release health) without the minute in its key. So what a console
// query reads grows with the page asked for, the time range and the number of groups, never with a
// project's events or its history.
// Full-text search on the embedded backend is the exception (FTS5 finds every match of its terms;
// its total and groups stop at 10,000 matches); with Elasticsearch it does not touch D1 at all.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { projectShards, shardDbs } from "../../shared/db/shards";
import { ADMIN, BASE, call, createTestProject, type TestProject, waitFor } from "../../test/helpers";
import { type Recorded, recordingDb } from "../../test/recording-db";
import nodeReport from "../edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import consoleWorker from "./index";
import { mergeStatements } from "./merge-groups";
import { groupTitles, occurrences, releaseBreakdown, sparklines } from "./ui/data";

/** Tables with a row (or more) per event: only key look-ups and keyset ranges are allowed. */
const PER_EVENT = [
  "search_docs",
  "d", // fts.ts's alias of search_docs: plans name the alias
  "search_fts",
  "events",
  "attachments",
  "segments",
  "message_ledger",
  "user_feedback",
];
/**
 * Tables with a row per project (and page, release, group…) and minute: a read must bound the
 * minute in its key (the time range asked for), not walk every minute the project has.
 */
const PER_MINUTE = ["outcomes", "rum_page_minutes", "session_minutes", "group_minutes"];
/**
 * Small global tables an admin lists whole, and the login throttle and session tables, which every
 * login prunes to a fixed number of rows (so a scan of them is bounded, whatever a project holds).
 */
const LISTED_WHOLE = ["projects", "dead_letters", "console_login_failures", "console_sessions"];

/** The plan lines that break the rule (empty when the statement is fine). */
async function violations(r: Recorded): Promise<string[]> {
  const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
    .bind(...r.params)
    .all<{ detail: string }>();
  const bad: string[] = [];
  for (const { detail } of plan.results) {
    const scan = /^SCAN (\w+)/.exec(detail);
    if (scan && !LISTED_WHOLE.includes(scan[1]!) && !/^SCAN (json_each|CONSTANT ROW)/.test(detail))
      bad.push(detail);
    const search = /^SEARCH (\w+)/.exec(detail);
    if (search && PER_EVENT.includes(search[1]!) && !/\b(event_id|group_id|key|rowid|id)=/.test(detail))
      bad.push(detail);
    if (search && PER_MINUTE.includes(search[1]!) && !/\bminute[<>=]/.test(detail)) bad.push(detail);
  }
  return bad;
}

let p: TestProject;
let groupId: string;
let eventIds: string[];

beforeAll(async () => {
  p = await createTestProject("query-plans");
  for (let i = 0; i < 6; i++) {
    const report = structuredClone(nodeReport);
    report.occurredOn = new Date(Date.now() - i * 1000).toISOString();
    report.details.error.message = `plan ${i}`;
    const res = await call("/entries", {
      method: "POST",
      headers: { "x-apikey": p.key },
      body: JSON.stringify(report),
    });
    expect(res.status).toBe(202);
  }
  const rows = await waitFor(async () => {
    const r = await env.DB.prepare("SELECT event_id, group_id FROM search_docs WHERE project_id = ?")
      .bind(p.id)
      .all<{ event_id: string; group_id: string }>();
    return r.results.length === 6 ? r.results : null;
  });
  groupId = rows[0]!.group_id;
  eventIds = rows.map((r) => r.event_id);
});

describe("console queries (EXPLAIN QUERY PLAN)", () => {
  it("no API route or dashboard aggregate scans, or reads per-event rows other than by key", async () => {
    const log: Recorded[] = [];
    // The control database and every metadata shard (same schema, so plans are explained on DB).
    const shards = shardDbs(env).map((d) => recordingDb(log, d));
    const db = shards[(await projectShards(env, [p.id])).get(p.id)!]!;
    const consoleEnv = {
      ...env,
      ...Object.fromEntries(shards.map((d, i) => [`DB_SHARD_${i}`, d])),
      DB: recordingDb(log),
    } as unknown as ConsoleEnv;
    const get = async (path: string, init: RequestInit = {}) => {
      const res = await consoleWorker.fetch(
        new Request(`${BASE}${path}`, { ...init, headers: { ...ADMIN, "content-type": "application/json" } }),
        consoleEnv,
        createExecutionContext(),
      );
      expect(res.status, path).toBeLessThan(300);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const base = `/api/v1/projects/${p.id}`;
    await get("/api/v1/projects");
    await get(base);
    await get(`${base}/settings`);
    await get(`${base}/groups`);
    await get(`${base}/groups?status=active&limit=1`);
    await get(`${base}/groups/${groupId}`);
    await get(`${base}/groups/${groupId}`, { method: "PATCH", body: JSON.stringify({ status: "active" }) });
    const first = (await get(`${base}/groups/${groupId}/events?limit=2`)) as { next: string };
    expect(first.next).toEqual(expect.any(String));
    await get(`${base}/groups/${groupId}/events?limit=2&cursor=${encodeURIComponent(first.next)}`);
    await get(`${base}/groups/${groupId}/histogram?days=1`);
    await get(`${base}/groups/${groupId}/histogram?days=90`);
    // The issue workflow: list filters, feedback, a merge (and its target's events).
    await get(`${base}/groups?environment=production&release=1.0.0`);
    await get(`${base}/groups?release=1.0.0&limit=1`);
    await get(`${base}/groups/${groupId}/feedback?limit=2`);
    await get(`${base}/events/${eventIds[0]}/feedback`);
    const refused = await consoleWorker.fetch(
      new Request(`${BASE}${base}/groups/merge`, {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify({ into: groupId, groups: ["0123456789abcdef"] }),
      }),
      consoleEnv,
      createExecutionContext(),
    );
    expect(refused.status).toBe(404);
    await get(`${base}/events/${eventIds[0]}`);
    await get(`${base}/events/${eventIds[1]}/raw`);
    await get(`${base}/stats`);
    await get(`${base}/rum/pages`);
    await get(`${base}/releases`);
    await get("/api/v1/dead-letters");
    // Alert rules and their delivery log, source map artifacts, settings and key changes.
    const rule = (await get(`${base}/alert-rules`, {
      method: "POST",
      body: JSON.stringify({
        name: "plans",
        triggers: ["new_issue", "frequency"],
        target: { type: "webhook", url: "https://hooks.example.test/sluice" },
        threshold: { count: 100, windowMinutes: 10 },
      }),
    })) as { id: string };
    await get(`${base}/alert-rules`);
    await get(`${base}/alert-rules/${rule.id}`);
    await get(`${base}/alert-rules/${rule.id}`, {
      method: "PATCH",
      body: JSON.stringify({ name: "plans 2" }),
    });
    await get(`${base}/alert-rules/${rule.id}/deliveries`);
    await get(`${base}/artifacts`);
    await get(`${base}/settings`, { method: "PATCH", body: JSON.stringify({ rateLimitPerMinute: 600 }) });
    await get(`${base}/keys/rotate`, { method: "POST" });
    // Every dashboard page (but search: see the header), through a real login session.
    const login = await consoleWorker.fetch(
      new Request(`${BASE}/ui/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE },
        body: new URLSearchParams({ token: ADMIN.authorization.slice("Bearer ".length), next: "/ui/" }),
      }),
      consoleEnv,
      createExecutionContext(),
    );
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const ui = `/ui/projects/${p.id}`;
    for (const page of [
      "/ui/",
      ui,
      `${ui}?status=resolved`,
      `${ui}/setup`,
      `${ui}/outcomes`,
      `${ui}/rum`,
      `${ui}/releases`,
      `${ui}/alerts`,
      `${ui}/alerts/${rule.id}`,
      `${ui}/artifacts`,
      `${ui}/groups/${groupId}`,
      `${ui}/events/${eventIds[0]}`,
    ]) {
      const res = await consoleWorker.fetch(
        new Request(`${BASE}${page}`, { headers: { cookie } }),
        consoleEnv,
        createExecutionContext(),
      );
      expect(res.status, page).toBe(200);
    }
    // The dashboard's own aggregate reads (issues list sparklines, issue page chart and releases).
    await sparklines(db, p.id, [groupId, "other"]);
    await occurrences(db, p.id, [groupId], 86_400_000, 90);
    await releaseBreakdown(db, p.id, groupId);
    await groupTitles(db, p.id, [groupId]);

    const reads = log.filter((r) => /^\s*(SELECT|WITH|UPDATE|DELETE)/i.test(r.sql));
    // The merge's own statements, writes included (planned only: EXPLAIN runs none of them).
    const dialect = new SQLiteAsyncDialect();
    for (const s of mergeStatements(Number(p.id), "0123456789abcdef", [groupId], Date.now())) {
      const q = dialect.sqlToQuery(sql`${s}`);
      reads.push({ sql: q.sql, params: q.params });
    }
    expect(reads.some((r) => /group_facets/.test(r.sql) && /\?/.test(r.sql))).toBe(true);
    expect(reads.length).toBeGreaterThanOrEqual(15);
    expect(reads.some((r) => /alert_deliveries/.test(r.sql))).toBe(true);
    expect(reads.some((r) => /artifact_bundles/.test(r.sql))).toBe(true);
    // The per-event reads really are on the event index and the aggregate, not somewhere else.
    expect(reads.some((r) => /FROM search_docs/.test(r.sql) && /group_id = \?/.test(r.sql))).toBe(true);
    expect(reads.some((r) => /"group_hours"/.test(r.sql))).toBe(true);
    // The per-minute aggregates of stats, RUM pages and release health are read, by time range.
    for (const table of ["outcomes", "rum_page_minutes", "session_minutes"])
      expect(reads.some((r) => r.sql.includes(`"${table}"`) && /"minute" >= \?/.test(r.sql))).toBe(true);
    const bad: Array<{ sql: string; plan: string[] }> = [];
    for (const r of reads) {
      const v = await violations(r);
      if (v.length > 0) bad.push({ sql: r.sql.replace(/\s+/g, " ").slice(0, 200), plan: v });
    }
    expect(bad).toEqual([]);
  });

  it("the checker itself flags a scan, a per-project read of the event index and of a per-minute table", async () => {
    expect(
      await violations({ sql: "SELECT count(*) FROM group_hours WHERE count > ?", params: [1] }),
    ).not.toEqual([]);
    expect(
      await violations({
        sql: "SELECT * FROM search_docs WHERE project_id = ? AND level = ?",
        params: ["1", "x"],
      }),
    ).not.toEqual([]);
    expect(
      await violations({ sql: "SELECT * FROM search_docs AS d WHERE d.project_id = ?", params: ["1"] }),
    ).not.toEqual([]);
    expect(
      await violations({
        sql: "SELECT * FROM search_docs AS d WHERE d.project_id = ? AND d.group_id = ? LIMIT 3",
        params: ["1", "g"],
      }),
    ).toEqual([]);
    for (const table of ["rum_page_minutes", "session_minutes"]) {
      expect(
        await violations({ sql: `SELECT * FROM ${table} WHERE project_id = ?`, params: [1] }),
        table,
      ).not.toEqual([]);
      expect(
        await violations({
          sql: `SELECT * FROM ${table} WHERE project_id = ? AND minute >= ? AND minute <= ?`,
          params: [1, 0, 60_000],
        }),
        table,
      ).toEqual([]);
    }
  });

  it("RUM pages and release health read the minutes of the range asked for, not all the project's", async () => {
    const q = await createTestProject("query-plans-minutes");
    const shard = (await projectShards(env, [q.id])).get(q.id)!;
    const db = shardDbs(env)[shard]!;
    // 2,000 minutes, each a row of one of 7 pages and of one of 7 releases.
    const MINUTES = 2000;
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - MINUTES * 60_000;
    const rows = Array.from({ length: MINUTES }, (_, i) => t0 + i * 60_000);
    await db.batch([
      db
        .prepare(
          `INSERT INTO rum_page_minutes (project_id, page, minute, views, load_count, load_sum_ms, histogram)
           SELECT ?, '/p/' || (key % 7), value, 1, 0, 0, '[]' FROM json_each(?)`,
        )
        .bind(Number(q.id), JSON.stringify(rows)),
      db
        .prepare(
          `INSERT INTO session_minutes (project_id, release, environment, minute, started)
           SELECT ?, 'r' || (key % 7), 'production', value, 1 FROM json_each(?)`,
        )
        .bind(Number(q.id), JSON.stringify(rows)),
    ]);
    const log: Recorded[] = [];
    const consoleEnv = {
      ...env,
      ...Object.fromEntries(shardDbs(env).map((d, i) => [`DB_SHARD_${i}`, recordingDb(log, d)])),
    } as unknown as ConsoleEnv;
    // The last minute only: one row of each table.
    const range = `from=${t0 + (MINUTES - 1) * 60_000}&to=${t0 + (MINUTES - 1) * 60_000 + 59_999}`;
    for (const path of [`rum/pages?${range}`, `releases?${range}`]) {
      const res = await consoleWorker.fetch(
        new Request(`${BASE}/api/v1/projects/${q.id}/${path}`, { headers: ADMIN }),
        consoleEnv,
        createExecutionContext(),
      );
      expect(res.status, path).toBe(200);
      const body = (await res.json()) as { pages?: { views: number }[]; releases?: { sessions: number }[] };
      expect([...(body.pages ?? []), ...(body.releases ?? [])]).toHaveLength(1);
    }
    // Each statement again, as the route ran it, for what D1 says it read.
    for (const table of ["rum_page_minutes", "session_minutes"]) {
      const r = log.find((x) => x.sql.includes(`"${table}"`));
      expect(r, table).toBeDefined();
      const { meta } = await db
        .prepare(r!.sql)
        .bind(...r!.params)
        .all();
      expect(meta.rows_read, table).toBeLessThanOrEqual(10);
    }
  });
});
