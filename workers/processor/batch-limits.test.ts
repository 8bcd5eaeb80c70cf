// A batch never fails whole on what one report carries, inside workerd against real local Queues
// (which refuse a message over 128 KB) and D1 (whose sum() refuses to overflow 64 bits): search
// documents of non-ASCII or oversized reports fit the index queue, and counts sent by an SDK
// (sessions, client reports, RUM load times) are bounded before they are summed.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import type { IngestItem } from "../../shared/queue-message";
import { createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";
import { batchBody, deliver, raygunItem } from "./test-helpers";

let other: TestProject;
beforeAll(async () => {
  other = await createTestProject("limits-bystander");
});

/** An item of `p` with `payload` (inline, as the edge sends small ones). */
const item = (p: TestProject, over: Partial<IngestItem>, payload: unknown): IngestItem => {
  const text = JSON.stringify(payload);
  return { ...raygunItem(p), ...over, eventId: newEventId(), payload: text, size: text.length };
};

/** A Raygun item whose report is changed by `edit`. */
function raygunWith(p: TestProject, edit: (report: { details: Record<string, unknown> }) => void) {
  const it = raygunItem(p);
  const report = JSON.parse(it.payload!);
  edit(report);
  it.payload = JSON.stringify(report);
  it.size = it.payload.length;
  return it;
}

async function indexed(p: TestProject): Promise<number> {
  const r = await env.DB.prepare("SELECT count(*) AS n FROM search_docs WHERE project_id = ?")
    .bind(p.id)
    .first<{ n: number }>();
  return r?.n ?? 0;
}

describe("index messages fit the queue", () => {
  it("50 Japanese reports in one batch: acked, none retried, all indexed with their message whole", async () => {
    const p = await createTestProject("limits-cjk");
    const message = "入力値が不正です。".repeat(230);
    const bodies = Array.from({ length: 50 }, (_, i) => batchBody([raygunItem(p, {}, `${message}${i}`)]));
    const { result } = await deliver(bodies);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(50);
    await waitFor(async () => (await indexed(p)) >= 50);
    const row = await env.DB.prepare("SELECT message FROM search_docs WHERE project_id = ? LIMIT 1")
      .bind(p.id)
      .first<{ message: string }>();
    expect(row!.message).toBe(message.slice(0, 2000));
  });

  it("a Raygun report with 21,000 tags and a Sentry frame with a 300 KB function name are stored and indexed", async () => {
    const p = await createTestProject("limits-hostile");
    const tags = raygunWith(p, (r) => {
      r.details.tags = Array.from({ length: 21_000 }, (_, i) => i);
    });
    const frame = item(
      p,
      { protocol: "sentry", itemType: "event", category: "error" },
      {
        timestamp: Date.now() / 1000,
        exception: {
          values: [{ type: "E", value: "m", stacktrace: { frames: [{ function: "f".repeat(300_000) }] } }],
        },
      },
    );
    const bystander = raygunItem(other);
    const { result } = await deliver([batchBody([tags]), batchBody([frame]), batchBody([bystander])]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    await waitFor(async () => (await indexed(p)) >= 2);
  });
});

describe("counts sent by an SDK cannot overflow D1's sum()", () => {
  it("sessions, client reports and RUM load times of 5e18 are clamped; the batch (another project's item too) is stored", async () => {
    const p = await createTestProject("limits-counts");
    const sessions = item(
      p,
      { protocol: "sentry", itemType: "sessions", category: "session" },
      {
        attrs: { release: "1.0" },
        aggregates: [
          { started: "2024-01-01T00:00:00Z", exited: 5e18 },
          { started: "2024-01-01T00:00:30Z", exited: 5e18 },
        ],
      },
    );
    const report = () =>
      item(
        p,
        { protocol: "sentry", itemType: "client_report", category: "client_report" },
        { discarded_events: [{ reason: "queue_overflow", category: "error", quantity: 5e18 }] },
      );
    const rum = () =>
      item(
        p,
        { protocol: "raygun", itemType: "rum", category: "rum" },
        {
          sessionId: "s",
          type: "mobile_event_timing",
          data: [{ name: "/p", timing: { type: "p", duration: 5e18 } }],
        },
      );
    const bystander = raygunItem(other);
    const { result } = await deliver([
      batchBody([sessions]),
      batchBody([report()]),
      batchBody([report()]),
      batchBody([rum()]),
      batchBody([rum()]),
      batchBody([bystander]),
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(6);

    const db = await metaDbOf(p.id);
    const s = await db
      .prepare("SELECT started, exited FROM session_minutes WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ started: number; exited: number }>();
    expect(s).toEqual({ started: 2_000_000, exited: 2_000_000 });
    const discarded = await db
      .prepare("SELECT sum(quantity) AS n FROM outcomes WHERE project_id = ? AND outcome = 'client_discard'")
      .bind(Number(p.id))
      .first<{ n: number }>();
    expect(discarded!.n).toBe(2_000_000);
    const pages = await db
      .prepare("SELECT views, load_count FROM rum_page_minutes WHERE project_id = ?")
      .bind(Number(p.id))
      .first<{ views: number; load_count: number }>();
    // A load time no page takes counts the view, not the time.
    expect(pages).toEqual({ views: 2, load_count: 0 });
  });
});
