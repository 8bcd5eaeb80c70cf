// The real @sentry/node SDK (11.12.0) with DSN http://<key>@127.0.0.1:<port>/<id> against the
// running stack: exceptions, messages, a transaction with spans, a session, an attachment and a
// body above 32 KiB (which the SDK gzips) — each read back through the API.
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApi, createProject, eventually } from "./client";

let project: { id: string; key: string; dsn: string };
const transactionIds: string[] = [];

beforeAll(async () => {
  project = await createProject("sentry-node-e2e");
  Sentry.init({
    dsn: project.dsn,
    release: "shop@2.4.0",
    environment: "e2e",
    tracesSampleRate: 1,
    // Classic transaction items (v11 streams spans by default; both are accepted and stored).
    traceLifecycle: "static",
    sendClientReports: true,
    beforeSendTransaction(event) {
      if (event.event_id) transactionIds.push(event.event_id);
      return event;
    },
  } as Parameters<typeof Sentry.init>[0]);
});

afterAll(async () => {
  await Sentry.close(2000);
});

type Detail = {
  event: {
    type: string | null;
    message: string;
    category: string;
    release: string;
    exceptions: { frames: { function: string | null; inApp: boolean | null }[] }[];
  };
  raw: Record<string, unknown>;
  attachments: { name: string; size: number }[];
};

async function detail(eventId: string) {
  return eventually(async () => {
    const r = await adminApi<Detail>(`/api/v1/projects/${project.id}/events/${eventId}`);
    return r.status === 200 ? r.body : null;
  });
}

function reserveStock(sku: string) {
  throw new RangeError(`not enough stock for ${sku}`);
}

describe("@sentry/node against Sluice", () => {
  it("captureException: a group with in-app frames", async () => {
    let id = "";
    try {
      reserveStock("SKU-1");
    } catch (err) {
      id = Sentry.captureException(err);
    }
    await Sentry.flush(2000);
    const d = await detail(id);
    expect(d.event.type).toBe("RangeError");
    expect(d.event.release).toBe("shop@2.4.0");
    const frames = d.event.exceptions.at(-1)!.frames;
    expect(frames.at(-1)!.function).toBe("reserveStock");
    expect(frames.at(-1)!.inApp).toBe(true);
    const groups = await adminApi<{ groups: { type: string; count: number }[] }>(
      `/api/v1/projects/${project.id}/groups`,
    );
    expect(groups.body.groups.find((g) => g.type === "RangeError")?.count).toBe(1);
  });

  it("captureMessage", async () => {
    const id = Sentry.captureMessage("cache warmed in 812 ms", "warning");
    await Sentry.flush(2000);
    const d = await detail(id);
    expect(d.event.message).toContain("cache warmed");
  });

  it("a transaction with spans is stored and counted, not grouped", async () => {
    await Sentry.startSpan({ name: "GET /checkout", op: "http.server" }, async () => {
      await Sentry.startSpan(
        { name: "SELECT orders", op: "db" },
        async () => new Promise((r) => setTimeout(r, 5)),
      );
    });
    await Sentry.flush(2000);
    expect(transactionIds.length).toBeGreaterThan(0);
    const d = await detail(transactionIds[0]!);
    expect(d.event.category).toBe("transaction");
    expect(JSON.stringify(d.raw)).toContain("SELECT orders");
  });

  it("a session counts into release health", async () => {
    Sentry.startSession();
    Sentry.endSession();
    await Sentry.flush(2000);
    const totals = await eventually(async () => {
      const r = await adminApi<{ totals: { category: string; outcome: string; quantity: number }[] }>(
        `/api/v1/projects/${project.id}/stats`,
      );
      return r.body.totals.find((t) => t.category === "session" && t.outcome === "accepted")
        ? r.body.totals
        : null;
    });
    expect(totals.find((t) => t.category === "session")!.quantity).toBeGreaterThanOrEqual(1);
  });

  it("an attachment is stored with its event", async () => {
    let id = "";
    Sentry.withScope((scope) => {
      scope.addAttachment({
        filename: "cart.json",
        data: JSON.stringify({ items: 3 }),
        contentType: "application/json",
      });
      id = Sentry.captureException(new Error("checkout failed with attachment"));
    });
    await Sentry.flush(2000);
    const d = await eventually(async () => {
      const x = await detail(id);
      return x.attachments.length > 0 ? x : null;
    });
    expect(d.attachments[0]).toMatchObject({ name: "cart.json" });
  });

  it("a body above 32 KiB (gzipped by the SDK) arrives whole", async () => {
    const id = Sentry.captureException(new Error("large payload"), {
      extra: { blob: "z".repeat(60 * 1024) },
    });
    await Sentry.flush(2000);
    const d = await detail(id);
    expect(JSON.stringify(d.raw)).toContain("z".repeat(60 * 1024));
  });
});
