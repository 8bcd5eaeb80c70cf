// What D1 keeps per stored item, inside workerd against real local Queues, D1 and R2, driven
// through the real edge: RUM page views, session updates and client reports get no D1 row (their
// aggregates are what is read), an unknown item type keeps its pointer row, every item is listed
// by its segment's own directory in R2, and retention releases all of it, also for segment rows
// written in the older format that listed every event id.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newEventId } from "../../shared/ids";
import { type FixtureName, fixtureBytes, fixtures } from "../../shared/sentry/fixtures";
import { readDirectory } from "../../shared/storage/segments";
import { api, call, createTestProject, metaDbOf, type TestProject, waitFor } from "../../test/helpers";
import { runRetention } from "./retention";
import { parseSegmentContents } from "./segment-contents";
import { segmentRowsOf, storedEventIds } from "./test-helpers";

const DAY = 86_400_000;
const FIXTURE_KEY = "e12d836b15bb49d7bbf99e64295d995b";

/** A captured @sentry/node request, sent to `p` as the SDK sent it. */
const sendSentry = (p: TestProject, name: FixtureName) =>
  call(fixtures[name].url.replace("/api/1/", `/api/${p.id}/`).replace(FIXTURE_KEY, p.key), {
    method: "POST",
    body: fixtureBytes(name),
  });

/** A raygun4js RUM request: a session start and a page timing. */
const rumBody = () =>
  JSON.stringify({
    eventData: ["session_start", "web_request_timing"].map((type) => ({
      sessionId: "s".repeat(32),
      timestamp: new Date().toISOString(),
      type,
      user: { Identifier: "u1", IsAnonymous: true },
      version: "2.8.0",
      device: "Mozilla/5.0",
      data: JSON.stringify([
        { url: "https://shop.example/cart?x=1", timing: { t: "p", du: "812.40", a: 0 } },
      ]),
    })),
  });

const pointerRows = async (p: TestProject) =>
  (
    await (
      await metaDbOf(p.id)
    )
      .prepare("SELECT event_id, category FROM events WHERE project_id = ?")
      .bind(Number(p.id))
      .all<{ event_id: string; category: string }>()
  ).results;

describe("D1 rows per stored item", () => {
  it("RUM, sessions and client reports get no pointer row; an unknown item keeps one; the segment directory lists all", async () => {
    const p = await createTestProject("no-pointer-rows");
    const rum = await call("/events", { method: "POST", body: rumBody(), headers: { "x-apikey": p.key } });
    expect(rum.status).toBe(202);
    for (const name of ["node-session", "node-client-report"] as const)
      expect((await sendSentry(p, name)).status).toBe(200);
    const unknown = `{}\n{"type":"future_thing","length":5}\nhello\n`;
    const res = await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, { method: "POST", body: unknown });
    expect(res.status).toBe(200);

    // 2 page views, a session update, a client report and the unknown item, each in a segment.
    const stored = await waitFor(async () => {
      const ids = await storedEventIds(p);
      return ids.length >= 5 ? ids : null;
    });
    expect(stored).toHaveLength(5);
    // The aggregates are there: the page's views and the session's release.
    const pages = await waitFor(async () => {
      const r = await api<{ pages: { page: string; views: number }[] }>(`/api/v1/projects/${p.id}/rum/pages`);
      return r.body.pages.length > 0 ? r.body.pages : null;
    });
    expect(pages.reduce((n, x) => n + x.views, 0)).toBeGreaterThanOrEqual(1);

    const rows = await pointerRows(p);
    expect(rows.map((r) => r.category)).toEqual(["default"]);
    expect(stored).toContain(rows[0]!.event_id);
    // The unknown item is still viewable by its id, through its pointer row.
    const detail = await api<{ raw: string }>(`/api/v1/projects/${p.id}/events/${rows[0]!.event_id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.raw).toBe("hello");

    // The segment rows carry counts and only the pointer rows' ids.
    const contents = (await segmentRowsOf(p)).map((r) => parseSegmentContents(r.contents)[p.id]!);
    expect(contents.reduce((n, c) => n + c.n, 0)).toBe(5);
    expect(contents.flatMap((c) => c.ids)).toEqual([rows[0]!.event_id]);

    // Past the retention: the pointer row, the items' share and the R2 objects go.
    const report = await runRetention(env, Date.now() + 91 * DAY);
    expect(report.pointerRowsDeleted).toBeGreaterThanOrEqual(1);
    expect(report.eventsDeleted).toBeGreaterThanOrEqual(5);
    expect(await pointerRows(p)).toEqual([]);
    expect(await storedEventIds(p)).toEqual([]);
  });

  it("retention still reads a segment row in the older format (every event id listed) and deletes its pointer rows", async () => {
    const p = await createTestProject("old-contents");
    const db = await metaDbOf(p.id);
    const key = `segments/old-format/${crypto.randomUUID()}`;
    const ids = [newEventId(), newEventId()];
    const createdAt = Date.now();
    await env.BLOBS.put(key, new Uint8Array([1, 2, 3]));
    await db
      .prepare("INSERT INTO segments (key, created_at, bytes, event_count, contents) VALUES (?, ?, 3, 2, ?)")
      .bind(key, createdAt, JSON.stringify({ [p.id]: ids }))
      .run();
    for (const id of ids)
      await db
        .prepare(
          `INSERT INTO events (project_id, event_id, category, occurred_at, received_at, segment_key, segment_offset, segment_length, batch_id)
           VALUES (?, ?, 'default', ?, ?, ?, 0, 3, 'old')`,
        )
        .bind(Number(p.id), id, createdAt, createdAt, key)
        .run();
    // A segment written before directories existed has none: the reader says so rather than guess.
    expect(await readDirectory(env.BLOBS, key)).toBeNull();

    const early = await runRetention(env, createdAt + 10 * DAY);
    expect(early.pointerRowsDeleted).toBe(0);
    expect(await pointerRows(p)).toHaveLength(2);

    // (Other tests' rows in this file's storage may expire in the same run.)
    const report = await runRetention(env, createdAt + 91 * DAY);
    expect(report.pointerRowsDeleted).toBeGreaterThanOrEqual(2);
    expect(await pointerRows(p)).toEqual([]);
    expect(await env.BLOBS.head(key)).toBeNull();
  });
});

describe("parseSegmentContents", () => {
  it("reads both formats", () => {
    expect(parseSegmentContents('{"7":["a","b"]}')).toEqual({ "7": { n: 2, ids: ["a", "b"] } });
    expect(parseSegmentContents('{"7":{"n":40,"ids":["a"]},"8":{"n":3,"ids":[]}}')).toEqual({
      "7": { n: 40, ids: ["a"] },
      "8": { n: 3, ids: [] },
    });
  });
});
