// `npm run search:setup` and `npm start` against a REAL Elasticsearch (SLUICE_TEST_ES_URL; `npm test`
// starts one): on a fresh cluster (a prefix nothing has used) the template goes in, idempotently, and
// an index created after it has the strict mapping; an index some earlier run auto-created with dynamic
// mappings makes both refuse, naming the index and saying what to do, before anything is served.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ES = (process.env.SLUICE_TEST_ES_URL ?? "http://127.0.0.1:9200").replace(/\/+$/, "");
const ROOT = join(import.meta.dirname, "..");
const unique = (what: string) =>
  `sluicetest-${what}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const fresh = unique("fresh");
const stale = unique("stale");

async function es(method: string, path: string, body?: unknown) {
  const res = await fetch(`${ES}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Runs a script of ours with Elasticsearch configured; resolves with its exit code and output. */
function node(script: string, env: Record<string, string>, timeout = 120_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "scripts", script)],
      { cwd: ROOT, timeout, env: { ...process.env, ELASTICSEARCH_URL: ES, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

afterAll(async () => {
  for (const prefix of [fresh, stale]) {
    // By name: clusters refuse wildcard deletes (action.destructive_requires_name).
    await es("DELETE", `/${prefix}-2026.11?ignore_unavailable=true`);
    await es("DELETE", `/_index_template/${prefix}`);
  }
});

describe("search:setup and npm start against Elasticsearch", () => {
  it("installs the template on a fresh cluster, idempotently; an index made after it is strict", async () => {
    const first = await node("search-setup.mjs", { ELASTICSEARCH_INDEX_PREFIX: fresh });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`index template "${fresh}" for ${fresh}-* installed`);
    expect((await es("GET", `/_index_template/${fresh}`)).status).toBe(200);
    const again = await node("search-setup.mjs", { ELASTICSEARCH_INDEX_PREFIX: fresh });
    expect(again.code, again.stderr).toBe(0);
    // What the indexer's first bulk would create: the template gives it Sluice's mapping.
    expect((await es("PUT", `/${fresh}-2026.11`)).status).toBe(200);
    const mapping = (await es("GET", `/${fresh}-2026.11/_mapping`)).json as Record<
      string,
      { mappings: { dynamic?: string; properties: Record<string, { type: string }> } }
    >;
    const m = mapping[`${fresh}-2026.11`]!.mappings;
    expect(m.dynamic).toBe("strict");
    expect(m.properties.eventId?.type).toBe("keyword");
    // Sorted newest first, the order of every event list (so a group's first page stops early).
    const settings = (await es("GET", `/${fresh}-2026.11/_settings`)).json as Record<
      string,
      { settings: { index: { sort?: { field?: string[]; order?: string[] } } } }
    >;
    expect(settings[`${fresh}-2026.11`]!.settings.index.sort).toEqual({
      field: ["occurredAt", "eventId"],
      order: ["desc", "desc"],
    });
  });

  it("refuses an index auto-created with dynamic mappings, naming it; npm start will not serve with it", async () => {
    // An indexer that ran before any setup: the first write made the index with dynamic mappings.
    const index = `${stale}-2026.11`;
    const made = await es("PUT", `/${index}/_doc/1?refresh=true`, {
      eventId: "0123456789abcdef0123456789abcdef",
      occurredAt: "2026-11-30T00:00:00.000Z",
    });
    expect(made.status).toBe(201);
    const setup = await node("search-setup.mjs", { ELASTICSEARCH_INDEX_PREFIX: stale });
    expect(setup.code).toBe(1);
    expect(setup.stderr).toContain(`Elasticsearch index ${index} was created without Sluice's mapping`);
    expect(setup.stderr).toContain("run `npm run search:setup`");

    const start = await node("start.mjs", {
      ELASTICSEARCH_INDEX_PREFIX: stale,
      PORT: "18787",
      SLUICE_STATE_DIR: mkdtempSync(join(tmpdir(), "sluice-start-refuses-")),
      SLUICE_LOG_LEVEL: "warn",
      ADMIN_TOKEN: "x",
    });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`Elasticsearch index ${index} was created without Sluice's mapping`);
    expect(start.stderr).toContain("npm start: Elasticsearch is not ready for Sluice");
  }, 180_000);
});
