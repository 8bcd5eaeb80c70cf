// The alert-rules API through the real console (and the edge in front of it): CRUD, clear 4xx
// answers for bad input (never a 5xx, never a partial write), and "send test alert" end to end
// through the real sluice-alerts queue and the alerter (its target a stubbed fetch).
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { login } from "../../../test/console-login";
import { api, BASE, call, createTestProject, metaDbOf, waitFor } from "../../../test/helpers";

const target = { type: "webhook", url: "https://hooks.example.com/x" };
const rules = (id: string) => `/api/v1/projects/${id}/alert-rules`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("alert rules API", () => {
  it("creates (with its secret, once), lists, reads, changes and deletes a rule", async () => {
    const p = await createTestProject("rules-crud");
    const created = await api<Record<string, unknown>>(rules(p.id), {
      method: "POST",
      body: JSON.stringify({
        name: "Ops",
        triggers: ["new_issue", "frequency"],
        target,
        threshold: { count: 100, windowMinutes: 10 },
        environment: "production",
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Ops",
      triggers: ["new_issue", "frequency"],
      target,
      threshold: { count: 100, windowMinutes: 10 },
      environment: "production",
      level: null,
      cooldownMinutes: 30,
      enabled: true,
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const id = created.body.id as string;
    const list = await api<{ rules: Record<string, unknown>[] }>(rules(p.id));
    expect(list.body.rules.map((r) => r.id)).toEqual([id]);
    expect(list.body.rules[0]).not.toHaveProperty("secret");
    const patched = await api(`${rules(p.id)}/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ cooldownMinutes: 5, triggers: ["spike"], threshold: null, enabled: false }),
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      cooldownMinutes: 5,
      triggers: ["spike"],
      threshold: null,
      enabled: false,
    });
    expect((await api(`${rules(p.id)}/${id}`)).body).toMatchObject({ cooldownMinutes: 5, enabled: false });
    expect((await api(`${rules(p.id)}/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`${rules(p.id)}/${id}`)).status).toBe(404);
    expect((await api(`${rules(p.id)}/${id}`, { method: "DELETE" })).status).toBe(404);
    // Another project's rule is not reachable through this project.
    const other = await createTestProject("rules-other");
    const theirs = await api<{ id: string }>(rules(other.id), {
      method: "POST",
      body: JSON.stringify({ name: "x", triggers: ["new_issue"], target }),
    });
    expect((await api(`${rules(p.id)}/${theirs.body.id}`)).status).toBe(404);
  });

  it.each([
    ["malformed JSON", "{", /malformed JSON/],
    ["no triggers", { name: "x", triggers: [], target }, /triggers/],
    ["an unknown trigger", { name: "x", triggers: ["sometimes"], target }, /triggers/],
    ["frequency without threshold", { name: "x", triggers: ["frequency"], target }, /threshold/],
    [
      "a window over a day",
      { name: "x", triggers: ["frequency"], target, threshold: { count: 1, windowMinutes: 5000 } },
      /windowMinutes/,
    ],
    [
      "an unknown field",
      { name: "x", triggers: ["new_issue"], target, secret: "mine" },
      /secret|unrecognized/i,
    ],
    [
      "a non-http target",
      { name: "x", triggers: ["new_issue"], target: { type: "webhook", url: "gopher://a.example/" } },
      /http or https/,
    ],
    [
      "a loopback target",
      { name: "x", triggers: ["new_issue"], target: { type: "webhook", url: "http://127.0.0.1:9/" } },
      /private, loopback/,
    ],
    [
      "a metadata-service target",
      { name: "x", triggers: ["new_issue"], target: { type: "slack", url: "http://169.254.169.254/" } },
      /private, loopback/,
    ],
    [
      "a localhost target",
      { name: "x", triggers: ["new_issue"], target: { type: "webhook", url: "http://localhost:3000/" } },
      /local host names/,
    ],
    ["a 10 KB name", { name: "n".repeat(10_000), triggers: ["new_issue"], target }, /name/],
  ])("POST with %s is a 400 that says why, and stores nothing", async (_what, body, why) => {
    const p = await createTestProject("rules-bad");
    const r = await api<{ error: string }>(rules(p.id), {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(why);
    expect((await api<{ rules: unknown[] }>(rules(p.id))).body.rules).toEqual([]);
  });

  it("PATCH, ids and unknown projects get 4xx, never 5xx", async () => {
    const p = await createTestProject("rules-patch-bad");
    const { body } = await api<{ id: string }>(rules(p.id), {
      method: "POST",
      body: JSON.stringify({
        name: "f",
        triggers: ["frequency"],
        target,
        threshold: { count: 5, windowMinutes: 5 },
      }),
    });
    const patch = (b: unknown) =>
      api<{ error: string }>(`${rules(p.id)}/${body.id}`, { method: "PATCH", body: JSON.stringify(b) });
    expect((await patch({})).status).toBe(400);
    expect((await patch({ threshold: null })).body.error).toMatch(/threshold/);
    expect((await patch({ target: { type: "webhook", url: "http://[::1]/" } })).status).toBe(400);
    expect((await api(`${rules(p.id)}/${body.id}`)).body).toMatchObject({ threshold: { count: 5 }, target });
    expect((await api(`${rules(p.id)}/not-a-rule`)).status).toBe(400);
    expect((await api(`${rules(p.id)}/0123456789abcdef/deliveries`)).status).toBe(404);
    expect((await api(`${rules(p.id)}/${body.id}/deliveries?cursor=zz`)).status).toBe(400);
    expect(
      (
        await api(`${rules("999999")}`, {
          method: "POST",
          body: JSON.stringify({ name: "x", triggers: ["new_issue"], target }),
        })
      ).status,
    ).toBe(404);
    expect((await call(rules(p.id))).status).toBe(401);
  });

  it("deleting a rule through another project is a 404 that writes nothing (API and dashboard)", async () => {
    const owner = await createTestProject("rules-delete-owner");
    const stranger = await createTestProject("rules-delete-stranger");
    const { body: rule } = await api<{ id: string }>(rules(owner.id), {
      method: "POST",
      body: JSON.stringify({ name: "mine", triggers: ["new_issue"], target }),
    });
    // One delivery in the owner's log and one cooldown on the owner's shard.
    await env.DB.prepare(
      `INSERT INTO alert_deliveries (rule_id, id, project_id, trigger, status, created_at, updated_at)
       VALUES (?, ?, ?, 'test', 'delivered', 1, 1)`,
    )
      .bind(rule.id, "a".repeat(32), Number(owner.id))
      .run();
    const shard = await metaDbOf(owner.id);
    await shard
      .prepare(
        "INSERT INTO alert_state (rule_id, group_id, trigger, quiet_until) VALUES (?, ?, 'new_issue', ?)",
      )
      .bind(rule.id, "0123456789abcdef", Date.now() + 3_600_000)
      .run();
    const kept = async () => ({
      rule: (await api(`${rules(owner.id)}/${rule.id}`)).status,
      deliveries: (
        await env.DB.prepare("SELECT id FROM alert_deliveries WHERE rule_id = ?")
          .bind(rule.id)
          .all<{ id: string }>()
      ).results.map((d) => d.id),
      cooldowns: (
        await shard
          .prepare("SELECT count(*) AS n FROM alert_state WHERE rule_id = ?")
          .bind(rule.id)
          .first<{ n: number }>()
      )?.n,
    });
    const all = { rule: 200, deliveries: ["a".repeat(32)], cooldowns: 1 };
    expect(await kept()).toEqual(all);

    const viaApi = await api<{ error: string }>(`${rules(stranger.id)}/${rule.id}`, { method: "DELETE" });
    expect(viaApi.status).toBe(404);
    expect(viaApi.body.error).toMatch(/alert rule not found/);
    expect(await kept()).toEqual(all);

    const cookie = await login();
    const page = await call(`/ui/projects/${stranger.id}/alerts`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const viaUi = await call(`/ui/projects/${stranger.id}/alerts/${rule.id}/delete`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(viaUi.status).toBe(404);
    await viaUi.body?.cancel();
    expect(await kept()).toEqual(all);

    // Through its own project the rule goes, with its log and cooldowns.
    expect((await api(`${rules(owner.id)}/${rule.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await kept()).toEqual({ rule: 404, deliveries: [], cooldowns: 0 });
  });

  it("listing the rules of an unknown project is a 404", async () => {
    const r = await api<{ error: string }>(rules("424242"));
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/project not found/);
  });

  it("send test alert: queued, delivered by the alerter, and in the delivery log", async () => {
    const p = await createTestProject("rules-test-alert");
    const { body: rule } = await api<{ id: string }>(rules(p.id), {
      method: "POST",
      body: JSON.stringify({ name: "t", triggers: ["new_issue"], target }),
    });
    const seen: string[] = [];
    const real = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (!req.url.startsWith(target.url)) return real(input as RequestInfo, init);
      seen.push(await req.text());
      return new Response(null, { status: 204 });
    });
    const sent = await api<{ deliveryId: string }>(`${rules(p.id)}/${rule.id}/test`, { method: "POST" });
    expect(sent.status).toBe(202);
    const d = await waitFor(async () => {
      const log = await api<{ deliveries: { id: string; status: string; trigger: string }[] }>(
        `${rules(p.id)}/${rule.id}/deliveries`,
      );
      return log.body.deliveries.find((x) => x.status === "delivered");
    });
    expect(d).toMatchObject({ id: sent.body.deliveryId, trigger: "test" });
    expect(JSON.parse(seen[0]!)).toMatchObject({ trigger: "test", group: null, rule: { id: rule.id } });
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM alert_deliveries WHERE rule_id = ?")
      .bind(rule.id)
      .first<{ n: number }>();
    expect(stored?.n).toBe(1);
  });
});
