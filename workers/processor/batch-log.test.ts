// The processor's per-batch log line (Workers Logs): queue, batch id and counts per project, so a
// deployed Sluice can be followed without reading payloads; keys and payload text never appear.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestProject } from "../../test/helpers";
import { batchBody, deliver, raygunItem } from "./test-helpers";

afterEach(() => vi.restoreAllMocks());

describe("batch log line", () => {
  it("names the queue, the batch and the events stored per project, and nothing from the payload", async () => {
    const [a, b] = await Promise.all([createTestProject("log-a"), createTestProject("log-b")]);
    const secret = "s3cr3t-message-text";
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await deliver([
      batchBody([raygunItem(a, {}, secret), raygunItem(a, {}, secret)]),
      batchBody([raygunItem(b)]),
    ]);
    const lines = log.mock.calls.map(([line]) => String(line)).filter((l) => l.includes('"msg":"batch"'));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      msg: "batch",
      queue: "sluice-errors-0",
      messages: 2,
      items: 3,
      stored: 3,
      deadLettered: 0,
      projects: { [a.id]: 2, [b.id]: 1 },
    });
    expect(entry.batchId).toMatch(/^[0-9a-f]{20}$/);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toContain(a.key);
  });
});
