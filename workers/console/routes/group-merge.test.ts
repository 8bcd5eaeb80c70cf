// Merging groups through the real pipeline (edge → queue → processor → indexer, local D1/R2): the
// target's totals, histogram and affected users after a merge, merged groups out of the list and
// pointing to the target, later events of their fingerprints landing in the target (even when the
// merge commits while a processor batch is in flight), idempotency, and every bad request a 4xx
// that changes nothing.
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createTestProject,
  metaDbOf,
  shardBindingOf,
  type TestProject,
  waitFor,
} from "../../../test/helpers";
import { processBatch } from "../../processor/process-batch";
import { raygunItem } from "../../processor/test-helpers";
import { MAX_MERGE_SOURCES, mergeGroups } from "../merge-groups";
import {
  type ApiGroup,
  groupsWhenCounted,
  hexId,
  indexed,
  listGroups,
  sendEvents,
} from "../workflow-test-helpers";

const HOUR = 3600_000;

let p: TestProject;
let other: TestProject;
let alpha: ApiGroup;
let beta: ApiGroup;
let gamma: ApiGroup;
let foreign: ApiGroup;
const now = Date.now();

const merge = (body: unknown, project = p) =>
  api<{ group?: ApiGroup; merged?: string[]; error?: string }>(
    `/api/v1/projects/${project.id}/groups/merge`,
    {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
  );
const group = async (id: string) => (await api<ApiGroup>(`/api/v1/projects/${p.id}/groups/${id}`)).body;
const histogramTotal = async (id: string) => {
  const r = await api<{ buckets: { count: number }[] }>(
    `/api/v1/projects/${p.id}/groups/${id}/histogram?days=2`,
  );
  return r.body.buckets.reduce((s, b) => s + b.count, 0);
};
const groupEventIds = async (id: string, limit = 2) => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const r = await api<{ events: { id: string }[]; next: string | null }>(
      `/api/v1/projects/${p.id}/groups/${id}/events?limit=${limit}${q}`,
    );
    expect(r.status).toBe(200);
    ids.push(...r.body.events.map((e) => e.id));
    cursor = r.body.next;
  } while (cursor);
  return ids;
};

let sent: string[];

beforeAll(async () => {
  p = await createTestProject("merge");
  other = await createTestProject("merge-other");
  sent = await sendEvents(p, [
    { group: "Alpha", user: "u1", at: now - 3 * HOUR },
    { group: "Alpha", user: "u2", at: now - 2 * HOUR },
    { group: "Alpha", user: "u3", at: now - 2 * HOUR },
    { group: "Beta", user: "u3", at: now - 5 * HOUR },
    { group: "Beta", ip: "198.51.100.7", at: now - HOUR },
    { group: "Gamma", user: "u4", at: now - 1000, release: "gamma@2" },
  ]);
  await sendEvents(other, [{ group: "Alpha", user: "x" }]);
  const groups = await groupsWhenCounted(p, 6);
  alpha = groups.get("AlphaError")!;
  beta = groups.get("BetaError")!;
  gamma = groups.get("GammaError")!;
  foreign = (await groupsWhenCounted(other, 1)).get("AlphaError")!;
  for (const id of sent) await indexed(p, id);
});

describe("POST /api/v1/projects/:id/groups/merge", () => {
  it("refuses bad requests with a 4xx naming the problem, and changes nothing", async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ into: alpha.id, groups: [alpha.id] }, 400, /into itself/],
      [{ into: alpha.id, groups: [beta.id, alpha.id] }, 400, /into itself/],
      [{ into: alpha.id, groups: ["0123456789abcdef"] }, 404, /unknown group.*0123456789abcdef/],
      [{ into: "0123456789abcdef", groups: [beta.id] }, 404, /unknown group/],
      [{ into: alpha.id, groups: [foreign.id] }, 404, new RegExp(`unknown group.*${foreign.id}`)],
      [
        {
          into: alpha.id,
          groups: Array.from({ length: MAX_MERGE_SOURCES + 1 }, (_, i) => i.toString(16).padStart(16, "0")),
        },
        400,
        /groups/,
      ],
      [{ into: alpha.id, groups: [] }, 400, /groups/],
      [{ into: alpha.id }, 400, /groups/],
      [{ into: "ALPHA", groups: [beta.id] }, 400, /into: invalid group id/],
      [{ into: alpha.id, groups: ["x'; DROP TABLE error_groups; --"] }, 400, /invalid group id/],
      [{ into: alpha.id, groups: [beta.id], extra: 1 }, 400, /./],
      ['{"into":', 400, /malformed JSON/],
      ["[]", 400, /./],
    ];
    for (const [body, status, message] of cases) {
      const r = await merge(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error, JSON.stringify(body)).toMatch(message);
    }
    expect((await merge({ into: foreign.id, groups: [alpha.id] })).status).toBe(404);
    expect((await merge({ into: alpha.id, groups: [beta.id] }, other)).status).toBe(404);
    expect((await group(alpha.id)).count).toBe(3);
    expect((await group(beta.id)).mergedInto).toBeNull();
    expect((await listGroups(p)).length).toBe(3);
  });

  it("folds counts, first/last seen, histogram and affected users into the target", async () => {
    expect(alpha.users).toBe(3);
    expect(beta.users).toBe(2);
    const r = await merge({ into: alpha.id, groups: [beta.id, gamma.id, beta.id] });
    expect(r.status).toBe(200);
    expect(r.body.merged?.sort()).toEqual([beta.id, gamma.id].sort());
    const g = r.body.group!;
    expect(g.id).toBe(alpha.id);
    expect(g.count).toBe(6);
    expect(g.firstSeen).toBe(beta.firstSeen);
    expect(g.lastSeen).toBe(gamma.lastSeen);
    expect(g.lastEventId).toBe(gamma.lastEventId);
    // u1 u2 u3 (Alpha) ∪ u3 + an IP (Beta) ∪ u4 (Gamma): 5 distinct users.
    expect(g.users).toBe(5);
    expect(await histogramTotal(alpha.id)).toBe(6);
    expect(await histogramTotal(beta.id)).toBe(0);

    // Merged groups leave the list and point to their target.
    expect((await listGroups(p)).map((x) => x.id)).toEqual([alpha.id]);
    expect((await group(beta.id)).mergedInto).toBe(alpha.id);
    expect((await group(gamma.id)).mergedInto).toBe(alpha.id);
    // The target's events include those its merged groups had (paged across all of them).
    expect((await groupEventIds(alpha.id)).sort()).toEqual([...sent].sort());
    // Its release facet came along: the release filter finds the target.
    expect((await listGroups(p, "?release=gamma%402")).map((x) => x.id)).toEqual([alpha.id]);
  });

  it("is idempotent, and refuses to merge into a merged group or re-merge elsewhere (409)", async () => {
    const again = await merge({ into: alpha.id, groups: [beta.id, gamma.id] });
    expect(again.status).toBe(200);
    expect(again.body.merged).toEqual([]);
    expect(again.body.group?.count).toBe(6);
    const intoMerged = await merge({ into: beta.id, groups: [alpha.id] });
    expect(intoMerged.status).toBe(409);
    expect(intoMerged.body.error).toMatch(`merged into ${alpha.id}`);
    expect((await group(alpha.id)).count).toBe(6);
  });

  it("sends later events of a merged fingerprint to the target, its page and its users", async () => {
    const [late] = await sendEvents(p, [{ group: "Beta", user: "u9" }]);
    const target = await waitFor(async () => {
      const g = await group(alpha.id);
      return g.count === 7 ? g : null;
    });
    expect(target.users).toBe(6);
    expect(target.lastEventId).toBe(late);
    expect((await group(beta.id)).count).toBe(beta.count);
    await indexed(p, late!);
    const ids = await groupEventIds(alpha.id, 3);
    expect(ids[0]).toBe(late);
    expect(ids).toHaveLength(7);
    expect(await histogramTotal(alpha.id)).toBe(7);
  });

  it("a merge that commits while a processor batch is in flight still routes that batch to the target", async () => {
    const q = await createTestProject("merge-race");
    const item = (msg: string) => raygunItem(q, {}, msg);
    const first = [item("race one"), item("race two")];
    const body = (items: typeof first) =>
      JSON.stringify({ v: 1, id: `${Date.now().toString(16).padStart(12, "0")}${hexId()}`, items });
    // `db` stands in for the project's metadata shard (where its groups live).
    const run = async (items: typeof first, db?: D1Database) =>
      processBatch(
        createMessageBatch("sluice-errors-0", [
          { id: hexId(), timestamp: new Date(), attempts: 1, body: body(items) },
        ]),
        { ...env, ...(db ? { [await shardBindingOf(q.id)]: db } : {}) },
      );
    // Two groups (the messages differ only in what Raygun's grouping keeps: give them distinct types).
    for (const [i, it] of first.entries()) {
      const r = JSON.parse(it.payload!);
      r.details.error.className = `Race${i}Error`;
      it.payload = JSON.stringify(r);
    }
    await run(first);
    const [one, two] = (await listGroups(q)).sort((a, b) => (a.type! < b.type! ? -1 : 1));
    // The next batch for group `two` looks up redirects (none yet), then the merge commits just
    // before its D1 transaction.
    const shard = await metaDbOf(q.id);
    const racing = new Proxy(shard, {
      get(target, prop) {
        if (prop === "batch")
          return async (stmts: D1PreparedStatement[]) => {
            const m = await mergeGroups(shard, Number(q.id), one!.id, [two!.id]);
            expect(m.ok).toBe(true);
            return target.batch(stmts);
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const next = item("race two again");
    next.payload = first[1]!.payload!.replace(
      /"occurredOn":"[^"]*"/,
      `"occurredOn":"${new Date().toISOString()}"`,
    );
    await run([next], racing);
    const after = await api<ApiGroup>(`/api/v1/projects/${q.id}/groups/${one!.id}`);
    expect(after.body.count).toBe(3);
    const src = await api<ApiGroup>(`/api/v1/projects/${q.id}/groups/${two!.id}`);
    expect(src.body.count).toBe(1);
    expect(src.body.mergedInto).toBe(one!.id);
  });
});
