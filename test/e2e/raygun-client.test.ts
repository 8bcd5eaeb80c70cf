// The real `raygun` npm client (raygun4node) sends a real Error to the locally running stack; the
// report is read back through the API with its stack frames.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { adminApi, createProject, eventually, stack } from "./client";

const require = createRequire(import.meta.url);
const raygun = require("raygun");

describe("raygun4node against Sluice", () => {
  it("sends an Error that shows up as a group and an event with frames", async () => {
    const project = await createProject("raygun-node-e2e");
    const url = new URL(stack().url);
    const client = new raygun.Client().init({
      apiKey: project.key,
      host: url.hostname,
      port: Number(url.port),
      useSSL: false,
    });
    client.setVersion("3.2.1");
    function chargeCard(order: number) {
      throw new Error(`card declined for order ${order}`);
    }
    let response: { statusCode?: number } | undefined;
    try {
      chargeCard(4711);
    } catch (err) {
      response = await client.send(err as Error, { customData: { order: 4711 } });
    }
    expect(response?.statusCode).toBe(202);

    const groups = await eventually(async () => {
      const r = await adminApi<{ groups: { id: string; type: string; message: string; count: number }[] }>(
        `/api/v1/projects/${project.id}/groups`,
      );
      return r.body.groups.length > 0 ? r.body.groups : null;
    });
    expect(groups[0]).toMatchObject({ type: "Error", message: "card declined for order 4711", count: 1 });
    // The group's event list comes from the event index, written by the indexer after the group.
    const events = await eventually(async () => {
      const r = await adminApi<{ events: { id: string; release: string }[] }>(
        `/api/v1/projects/${project.id}/groups/${groups[0]!.id}/events`,
      );
      return r.body.events.length > 0 ? r : null;
    });
    expect(events.body.events[0]!.release).toBe("3.2.1");
    const detail = await adminApi<{
      event: { exceptions: { frames: { function: string | null; filename: string | null }[] }[] };
      raw: { details: { client: { name: string } } };
    }>(`/api/v1/projects/${project.id}/events/${events.body.events[0]!.id}`);
    const frames = detail.body.event.exceptions[0]!.frames;
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[frames.length - 1]!.function).toBe("chargeCard");
    expect(frames[frames.length - 1]!.filename).toContain("raygun-client.test.ts");
    expect(detail.body.raw.details.client.name).toBe("raygun-node");
  });
});
