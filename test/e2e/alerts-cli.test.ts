// Alert rules from the admin CLI (`npm run sluice -- alerts:*`) against the shared stack: create a
// rule, list it, send a test alert a local receiver gets, read the delivery log, delete the rule.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../poll";
import { type Receiver, startReceiver } from "./alert-receiver";
import { createProject, sluice } from "./client";

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe("admin CLI: alert rules", () => {
  it("creates, lists, tests, reads deliveries of and deletes a rule", async () => {
    const p = await createProject("cli-alerts");
    const rule = JSON.stringify({
      name: "cli",
      triggers: ["new_issue"],
      target: { type: "webhook", url: `${receiver.url}/cli` },
    });
    const created = await sluice("alerts:create", p.id, rule);
    expect(created.code).toBe(0);
    const { id, secret } = JSON.parse(created.stdout) as { id: string; secret: string };
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const listed = await sluice("alerts:list", p.id);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain(`webhook ${receiver.url}/cli`);
    const sent = await sluice("alerts:test", p.id, id);
    expect(sent.stdout).toMatch(/test alert queued: delivery [0-9a-f]{32}/);
    await poll(async () => receiver.at("/cli")[0], 30_000, 100, "test alert");
    const log = await poll(
      async () => {
        const d = await sluice("alerts:deliveries", p.id, id, "--json");
        const body = JSON.parse(d.stdout) as { deliveries: { status: string; trigger: string }[] };
        return body.deliveries[0]?.status === "delivered" ? body : null;
      },
      30_000,
      200,
      "delivery logged",
    );
    expect(log.deliveries[0]!.trigger).toBe("test");
    expect((await sluice("alerts:delete", p.id, id)).stdout).toContain(`deleted alert rule ${id}`);
    expect((await sluice("alerts:list", p.id)).stdout).toContain("(none)");
  });

  it("a bad rule fails with the API's message and exit code 1", async () => {
    const p = await createProject("cli-alerts-bad");
    const bad = await sluice(
      "alerts:create",
      p.id,
      '{"name":"x","triggers":["frequency"],"target":{"type":"webhook","url":"https://a.example/"}}',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("threshold");
    const notJson = await sluice("alerts:create", p.id, "{nope");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain("the rule must be JSON");
  });
});
