// User feedback through the real pipeline: Sentry `user_report` items (showReportDialog /
// captureUserFeedback) and `feedback` events (the feedback widget / captureFeedback, as
// @sentry/core builds them) are stored with the group of their event, whether the event came in
// the same envelope, earlier, or not at all, and listed on the event and the group (paged, and
// moved along by a merge). Malformed feedback is kept raw and counted invalid, never listed.
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTestProject, metaDbOf, type TestProject, waitFor } from "../../../test/helpers";
import {
  type ApiGroup,
  groupsWhenCounted,
  hexId,
  indexed,
  postEnvelope,
  sendEvents,
} from "../workflow-test-helpers";
import type { FeedbackSchema } from "./feedback";

type Feedback = import("@hono/zod-openapi").z.infer<typeof FeedbackSchema>;

let p: TestProject;
let crash: string;
let group: ApiGroup;

const groupFeedback = async (groupId: string, query = "") =>
  api<{ feedback: Feedback[]; next: string | null; error?: string }>(
    `/api/v1/projects/${p.id}/groups/${groupId}/feedback${query}`,
  );
const eventFeedback = async (eventId: string) =>
  (await api<{ feedback: Feedback[] }>(`/api/v1/projects/${p.id}/events/${eventId}/feedback`)).body.feedback;

/** A feedback event as @sentry/core's captureFeedback builds it. */
const feedbackEvent = (message: string, associated?: string) => {
  const id = hexId();
  return {
    id,
    item: [
      { type: "feedback" },
      {
        event_id: id,
        type: "feedback",
        timestamp: Date.now() / 1000,
        level: "info",
        platform: "javascript",
        contexts: {
          feedback: {
            message,
            contact_email: "ada@example.com",
            name: "Ada",
            url: "https://shop.example/checkout",
            source: "api",
            associated_event_id: associated,
          },
        },
      },
    ] as [Record<string, unknown>, unknown],
  };
};

beforeAll(async () => {
  p = await createTestProject("feedback");
  crash = (await sendEvents(p, [{ group: "Checkout", user: "ada" }]))[0]!;
  group = (await groupsWhenCounted(p, 1)).get("CheckoutError")!;
  await indexed(p, crash!);
});

describe("user feedback", () => {
  it("stores a user_report sent after its (indexed) event on the event and its group", async () => {
    await postEnvelope(p, [
      [
        { type: "user_report" },
        { event_id: crash, name: "Ada", email: "ada@example.com", comments: "It crashed when I paid" },
      ],
    ]);
    const [f] = await waitFor(async () => {
      const list = await eventFeedback(crash!);
      return list.length === 1 ? list : null;
    });
    expect(f).toMatchObject({
      eventId: crash,
      groupId: group.id,
      name: "Ada",
      email: "ada@example.com",
      message: "It crashed when I paid",
      source: "user_report",
    });
    expect((await groupFeedback(group.id)).body.feedback.map((x) => x.id)).toEqual([f!.id]);
  });

  it("stores a feedback event, resolving its associated event's group (dashed id) or none", async () => {
    const dashed = `${crash!.slice(0, 8)}-${crash!.slice(8, 12)}-${crash!.slice(12, 16)}-${crash!.slice(16, 20)}-${crash!.slice(20)}`;
    const linked = feedbackEvent("The pay button does nothing", dashed);
    const loose = feedbackEvent("Love the new design");
    await postEnvelope(p, [linked.item], { event_id: linked.id });
    await postEnvelope(p, [loose.item], { event_id: loose.id });
    const list = await waitFor(async () => {
      const r = (await groupFeedback(group.id)).body.feedback;
      return r.length === 2 ? r : null;
    });
    expect(list[0]).toMatchObject({
      id: linked.id,
      eventId: crash,
      groupId: group.id,
      message: "The pay button does nothing",
      name: "Ada",
      email: "ada@example.com",
      url: "https://shop.example/checkout",
      source: "feedback",
    });
    // Paged newest first.
    const first = await groupFeedback(group.id, "?limit=1");
    expect(first.body.feedback.map((x) => x.id)).toEqual([list[0]!.id]);
    const second = await groupFeedback(group.id, `?limit=1&cursor=${encodeURIComponent(first.body.next!)}`);
    expect(second.body.feedback.map((x) => x.id)).toEqual([list[1]!.id]);
    expect(second.body.next).toBeNull();
    // Feedback about no event is kept (on no group).
    const row = await waitFor(async () =>
      (await metaDbOf(p.id))
        .prepare("SELECT event_id, group_id, message FROM user_feedback WHERE project_id = ? AND id = ?")
        .bind(Number(p.id), loose.id)
        .first<{ event_id: string | null; group_id: string | null; message: string }>(),
    );
    expect(row).toEqual({ event_id: null, group_id: null, message: "Love the new design" });
  });

  it("gives feedback that came before its event the event's group once the event is written", async () => {
    const id = hexId();
    await postEnvelope(p, [[{ type: "user_report" }, { event_id: id, comments: "before the crash report" }]]);
    const [early] = await waitFor(async () => {
      const list = await eventFeedback(id);
      return list.length === 1 ? list : null;
    });
    expect(early).toMatchObject({
      groupId: null,
      message: "before the crash report",
      name: null,
      email: null,
    });
    await postEnvelope(
      p,
      [
        [
          { type: "event" },
          {
            event_id: id,
            fingerprint: ["Together"],
            exception: { values: [{ type: "TogetherError", value: "x" }] },
          },
        ],
      ],
      { event_id: id },
    );
    const together = (await groupsWhenCounted(p, 2)).get("TogetherError")!;
    const [linked] = await waitFor(async () => {
      const list = await eventFeedback(id);
      return list[0]?.groupId ? list : null;
    });
    expect(linked).toMatchObject({ id: early!.id, groupId: together.id });
  });

  it("the cron links feedback whose event was indexed only after the feedback was processed", async () => {
    const { env } = await import("cloudflare:workers");
    const { relinkFeedback } = await import("../../processor/group-workflow");
    const { createSearchBackend } = await import("../../../shared/search");
    const late = hexId();
    await postEnvelope(p, [[{ type: "user_report" }, { event_id: late, comments: "raced the indexer" }]]);
    await waitFor(async () => (await eventFeedback(late)).length === 1);
    expect(await relinkFeedback(env)).toBe(0);
    // The event reaches the index without passing a processor batch after the feedback (the race).
    const now = new Date().toISOString();
    const indexedNow = await createSearchBackend(env).index([
      {
        eventId: late,
        projectId: p.id,
        groupId: group.id,
        fingerprint: null,
        category: "error",
        occurredAt: now,
        receivedAt: now,
        type: "CheckoutError",
        message: "late",
        level: "error",
        release: null,
        environment: null,
        user: null,
        platform: null,
        stack: "",
        tags: {},
      },
    ]);
    expect(indexedNow).toEqual(["ok"]);
    expect(await relinkFeedback(env)).toBe(1);
    expect((await eventFeedback(late))[0]?.groupId).toBe(group.id);
    expect(await relinkFeedback(env)).toBe(0);
  });

  it("links by an index probe per event, never a scan of the feedback table", async () => {
    const { env } = await import("cloudflare:workers");
    const { SQLiteAsyncDialect } = await import("drizzle-orm/sqlite-core");
    const { feedbackStatements } = await import("../../processor/group-workflow");
    const [link] = feedbackStatements([
      {
        prepared: {
          item: { projectId: p.id, eventId: hexId() },
          grouping: { groupId: "0123456789abcdef" },
        },
      } as never,
    ]);
    const q = new SQLiteAsyncDialect().sqlToQuery(link!);
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${q.sql}`)
      .bind(...q.params)
      .all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail);
    expect(details.some((d) => /SEARCH user_feedback USING INDEX user_feedback_event/.test(d))).toBe(true);
    expect(details.filter((d) => /SCAN user_feedback/.test(d))).toEqual([]);
  });

  it("moves a group's feedback to the group it is merged into", async () => {
    const together = (await groupsWhenCounted(p, 2)).get("TogetherError")!;
    const r = await api(`/api/v1/projects/${p.id}/groups/merge`, {
      method: "POST",
      body: JSON.stringify({ into: group.id, groups: [together.id] }),
    });
    expect(r.status).toBe(200);
    expect((await groupFeedback(group.id)).body.feedback.map((f) => f.message)).toContain(
      "before the crash report",
    );
    expect((await groupFeedback(together.id)).body.feedback).toEqual([]);
  });

  it("keeps malformed or oversized feedback bounded: invalid ones counted, never listed; long text cut", async () => {
    const before = (await eventFeedback(crash!)).length;
    await postEnvelope(p, [
      [{ type: "user_report" }, { event_id: crash, comments: "" }],
      [{ type: "user_report" }, { event_id: crash, comments: { nested: "object" } }],
    ]);
    const big = feedbackEvent(`${"x".repeat(20_000)}\u0000<script>`, crash);
    await postEnvelope(p, [big.item], { event_id: big.id });
    const list = await waitFor(async () => {
      const l = await eventFeedback(crash!);
      return l.length === before + 1 ? l : null;
    });
    expect(list.find((f) => f.id === big.id)?.message).toHaveLength(4096);
    const invalid = await waitFor(async () => {
      const stats = await api<{ totals: { outcome: string; reason: string; quantity: number }[] }>(
        `/api/v1/projects/${p.id}/stats`,
      );
      const t = stats.body.totals.find((x) => x.outcome === "invalid" && x.reason === "invalid:user_report");
      return t && t.quantity >= 2 ? t : null;
    });
    expect(invalid.quantity).toBe(2);
    expect(await eventFeedback(crash!)).toHaveLength(before + 1);
  });

  it("answers bad ids and cursors with a 400 (and the edge refuses a user_report that is not an object)", async () => {
    await expect(postEnvelope(p, [[{ type: "user_report" }, ["not", "an", "object"]]])).rejects.toThrow(
      /400/,
    );
    expect((await groupFeedback(group.id, "?cursor=%21%21")).status).toBe(400);
    expect((await groupFeedback("nothex", "")).status).toBe(400);
    expect((await api(`/api/v1/projects/${p.id}/events/xyz/feedback`)).status).toBe(400);
    expect((await groupFeedback(group.id, "?limit=0")).status).toBe(400);
  });
});
