// Sentry protocol at the edge, in workerd against real local Queues/D1/R2, driven by envelopes
// captured from real @sentry/node 11.12.0 and Python sentry-sdk 2.75.0: every item type, auth
// carrier, encoding, error path and the rate-limit response mechanics.
import { env } from "cloudflare:workers";
import * as zlib from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { type FixtureName, fixtureBytes, fixtures } from "../../../shared/sentry/fixtures";
import { api, call, createTestProject, metaDbOf, type TestProject, waitFor } from "../../../test/helpers";

const FIXTURE_KEY = "e12d836b15bb49d7bbf99e64295d995b";
let project: TestProject;
beforeAll(async () => {
  project = await createTestProject("sentry");
});

/** Replays a captured SDK request against this test's project. */
function sendFixture(
  name: FixtureName,
  opts: { project?: TestProject; path?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
) {
  const p = opts.project ?? project;
  const f = fixtures[name];
  const url = (opts.path ?? f.url).replace("/api/1/", `/api/${p.id}/`).replace(FIXTURE_KEY, p.key);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.headers)) {
    if (["content-length", "transfer-encoding", "connection", "accept-encoding"].includes(k)) continue;
    if (k === "content-encoding" && !name.endsWith(".gz")) continue;
    headers[k] = v.replace(FIXTURE_KEY, p.key);
  }
  return call(url, {
    method: "POST",
    body: opts.body ?? fixtureBytes(name),
    headers: { ...headers, ...opts.headers },
  });
}

const eventIdOf = (name: FixtureName) => {
  const text = new TextDecoder().decode(fixtureBytes(name));
  return (JSON.parse(text.slice(0, text.indexOf("\n"))) as { event_id: string }).event_id.replaceAll("-", "");
};

async function eventDetail(p: TestProject, eventId: string) {
  return waitFor(async () => {
    const r = await api<{
      event: Record<string, unknown>;
      raw: unknown;
      attachments: { name: string; size: number }[];
    }>(`/api/v1/projects/${p.id}/events/${eventId}`);
    return r.status === 200 ? r.body : null;
  });
}

describe("envelope items from real SDKs", () => {
  it("stores a @sentry/node exception, answers 200 {id}, groups it and keeps its frames", async () => {
    const res = await sendFixture("node-exception");
    expect(res.status).toBe(200);
    const id = eventIdOf("node-exception");
    expect(await res.json()).toEqual({ id });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const detail = await eventDetail(project, id);
    const event = detail.event as {
      type: string;
      exceptions: { frames: { function: string | null; inApp: boolean | null }[] }[];
      release: string;
    };
    expect(event.release).toBe("capture@1.0.0");
    const frames = event.exceptions.at(-1)!.frames;
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.some((f) => f.inApp === true)).toBe(true);
    const groups = await api<{ groups: { id: string; type: string; count: number }[] }>(
      `/api/v1/projects/${project.id}/groups`,
    );
    expect(groups.body.groups.find((g) => g.type === event.type)?.count).toBe(1);
  });

  it("stores a Python sentry-sdk exception (header auth, explicit lengths) with its class and frames", async () => {
    const p = await createTestProject("python");
    const res = await sendFixture("python-exception", { project: p });
    expect(res.status).toBe(200);
    const detail = await eventDetail(p, eventIdOf("python-exception"));
    const event = detail.event as {
      type: string;
      platform: string;
      exceptions: { frames: { function: string }[] }[];
    };
    expect(event.type).toBe("KeyError");
    expect(event.platform).toBe("python");
    expect(event.exceptions.at(-1)!.frames.map((f) => f.function)).toEqual(
      expect.arrayContaining(["checkout", "charge", "read_quota"]),
    );
  });

  it("decodes the gzip body @sentry/node sends above 32 KiB", async () => {
    const res = await sendFixture("node-large.gz");
    expect(res.status).toBe(200);
    const text = new TextDecoder().decode(
      await new Response(
        new Blob([fixtureBytes("node-large.gz")]).stream().pipeThrough(new DecompressionStream("gzip")),
      ).arrayBuffer(),
    );
    const id = (JSON.parse(text.slice(0, text.indexOf("\n"))) as { event_id: string }).event_id;
    const detail = await eventDetail(project, id);
    expect(JSON.stringify(detail.raw).length).toBeGreaterThan(32 * 1024);
  });

  it("stores a transaction without grouping it as an error", async () => {
    const p = await createTestProject("tx");
    expect((await sendFixture("node-transaction", { project: p })).status).toBe(200);
    const detail = await eventDetail(p, eventIdOf("node-transaction"));
    expect(detail.event.category).toBe("transaction");
    const groups = await api<{ groups: unknown[] }>(`/api/v1/projects/${p.id}/groups`);
    expect(groups.body.groups).toHaveLength(0);
  });

  it("counts sessions into release health per release and minute", async () => {
    const p = await createTestProject("sessions");
    expect((await sendFixture("node-session", { project: p })).status).toBe(200);
    expect((await sendFixture("node-sessions", { project: p })).status).toBe(200);
    const shard = await metaDbOf(p.id);
    const rows = await waitFor(async () => {
      const r = await shard
        .prepare(
          "SELECT release, sum(started) s, sum(exited) e FROM session_minutes WHERE project_id = ? GROUP BY release",
        )
        .bind(Number(p.id))
        .all<{ release: string; s: number; e: number }>();
      return r.results.length > 0 && r.results[0]!.s >= 2 ? r.results : null;
    });
    expect(rows[0]!.release).toBe("capture@1.0.0");
    expect(rows[0]!.e).toBeGreaterThanOrEqual(1);
  });

  it("merges client reports into the outcome counters as client_discard", async () => {
    const p = await createTestProject("client-report");
    expect((await sendFixture("node-client-report", { project: p })).status).toBe(200);
    const stats = await waitFor(async () => {
      const r = await api<{
        totals: { category: string; outcome: string; reason: string; quantity: number }[];
      }>(`/api/v1/projects/${p.id}/stats`);
      return r.body.totals.find((t) => t.outcome === "client_discard") ? r.body.totals : null;
    });
    expect(stats).toContainEqual({
      category: "error",
      outcome: "client_discard",
      reason: "before_send",
      quantity: 2,
    });
  });

  it("stores attachment bytes in R2, byte-exact, linked to the event", async () => {
    const p = await createTestProject("attachments");
    expect((await sendFixture("node-attachment", { project: p })).status).toBe(200);
    const id = eventIdOf("node-attachment");
    const detail = await waitFor(async () => {
      const d = await eventDetail(p, id);
      return d.attachments.length >= 2 ? d : null;
    });
    const binary = detail.attachments.find((a) => a.size === 300);
    expect(binary).toBeDefined();
    const row = await (await metaDbOf(p.id))
      .prepare("SELECT blob_key FROM attachments WHERE project_id = ? AND event_id = ? AND size = 300")
      .bind(Number(p.id), id)
      .first<{ blob_key: string }>();
    const bytes = new Uint8Array(await (await env.BLOBS.get(row!.blob_key))!.arrayBuffer());
    expect(Array.from(bytes)).toEqual(Array.from({ length: 300 }, (_, i) => i % 256));
  });

  it("keeps an unknown item type and does not reject the envelope", async () => {
    const body = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"future_thing","length":5,"new_header":1}\nhello\n`;
    const res = await call(`/api/${project.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });
});

describe("routes and auth carriers", () => {
  const minimal = (eventId: string, extra: Record<string, unknown> = {}) =>
    `${JSON.stringify({ event_id: eventId, ...extra })}\n{"type":"event"}\n${JSON.stringify({ message: "hello", level: "info" })}`;

  it("accepts X-Sentry-Auth, Authorization: Sentry, the query and the envelope dsn (tunnel)", async () => {
    const path = `/api/${project.id}/envelope/`;
    const auth = `Sentry sentry_version=7, sentry_client=test/1.0, sentry_key=${project.key}`;
    expect(
      (
        await call(path, {
          method: "POST",
          body: minimal("a".repeat(32)),
          headers: { "x-sentry-auth": auth },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(path, { method: "POST", body: minimal("b".repeat(32)), headers: { authorization: auth } }))
        .status,
    ).toBe(200);
    expect(
      (
        await call(`${path}?sentry_key=${project.key}&sentry_version=7`, {
          method: "POST",
          body: minimal("c".repeat(32)),
        })
      ).status,
    ).toBe(200);
    const dsn = `http://${project.key}@sluice.test/${project.id}`;
    const tunnel = await call(path, { method: "POST", body: minimal("d".repeat(32), { dsn }) });
    expect(tunnel.status).toBe(200);
    expect(await tunnel.json()).toEqual({ id: "d".repeat(32) });
  });

  it("answers 401 without auth or with conflicting carriers, 403 for a foreign project or unknown key", async () => {
    const path = `/api/${project.id}/envelope/`;
    const none = await call(path, { method: "POST", body: minimal("e".repeat(32)) });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ detail: "missing authorization information" });
    const other = "0".repeat(32);
    const conflict = await call(`${path}?sentry_key=${other}`, {
      method: "POST",
      body: minimal("e".repeat(32)),
      headers: { "x-sentry-auth": `Sentry sentry_key=${project.key}, sentry_version=7` },
    });
    expect(conflict.status).toBe(401);
    const second = await createTestProject("other");
    const foreign = await call(`/api/${second.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      body: minimal("e".repeat(32)),
    });
    expect(foreign.status).toBe(403);
    const unknown = await call(`${path}?sentry_key=${"f".repeat(32)}`, {
      method: "POST",
      body: minimal("e".repeat(32)),
    });
    expect(unknown.status).toBe(403);
  });

  it("folds duplicate slashes, accepts no trailing slash, and serves the legacy store endpoint", async () => {
    const q = `?sentry_key=${project.key}`;
    expect(
      (await call(`//api//${project.id}//envelope/${q}`, { method: "POST", body: minimal("1".repeat(32)) }))
        .status,
    ).toBe(200);
    expect(
      (await call(`/api/${project.id}/envelope${q}`, { method: "POST", body: minimal("2".repeat(32)) }))
        .status,
    ).toBe(200);
    const store = await call(`/api/${project.id}/store/${q}`, {
      method: "POST",
      body: JSON.stringify({ event_id: "3".repeat(32), message: "legacy", level: "error" }),
      headers: { "content-type": "application/json" },
    });
    expect(store.status).toBe(200);
    expect(await store.json()).toEqual({ id: "3".repeat(32) });
    await eventDetail(project, "3".repeat(32));
  });

  it("answers malformed envelopes with 400 {detail, causes}", async () => {
    const q = `?sentry_key=${project.key}`;
    for (const body of [
      "",
      "not json\n",
      '{"event_id":"x"}\n{"type":"event","length":100}\n{}',
      '{}\n{"no_type":1}\n{}',
      '{}\n{"type":"event"}\n[]\n', // JSON, but not an object: refused at the edge, never dead-lettered later
      '{}\n{"type":"transaction"}\n1',
    ]) {
      const res = await call(`/api/${project.id}/envelope/${q}`, { method: "POST", body });
      expect(res.status, body).toBe(400);
      const json = (await res.json()) as { detail: string; causes: string[] };
      expect(typeof json.detail).toBe("string");
      expect(Array.isArray(json.causes)).toBe(true);
    }
  });

  it("answers 413 for an event item over 1 MiB and for a gzip bomb, 415 naming the encodings for compress", async () => {
    const q = `?sentry_key=${project.key}`;
    const big = `{}\n{"type":"event"}\n${JSON.stringify({ message: "x".repeat(1024 * 1024 + 10) })}`;
    expect((await call(`/api/${project.id}/envelope/${q}`, { method: "POST", body: big })).status).toBe(413);
    // 64 MiB of zeros compress to ~64 KiB: the limit applies to decoded bytes while streaming.
    const zeros = new Blob([new Uint8Array(64 * 1024 * 1024)])
      .stream()
      .pipeThrough(new CompressionStream("gzip"));
    const bomb = await new Response(zeros).arrayBuffer();
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const res = await call(`/api/${project.id}/envelope/${q}`, {
      method: "POST",
      body: bomb,
      headers: { "content-encoding": "gzip" },
    });
    expect(res.status).toBe(413);
    const compress = await call(`/api/${project.id}/envelope/${q}`, {
      method: "POST",
      body: "x",
      headers: { "content-encoding": "compress" },
    });
    expect(compress.status).toBe(415);
    expect(await compress.json()).toMatchObject({
      detail: 'unsupported Content-Encoding "compress": send gzip, deflate, br, zstd or an uncompressed body',
    });
    // 20,000 empty items in 560 KB: refused rather than amplified into 20,000 stored records.
    const many = `{}\n${'{"type":"nope","length":0}\n\n'.repeat(20_000)}`;
    expect((await call(`/api/${project.id}/envelope/${q}`, { method: "POST", body: many })).status).toBe(413);
  });

  it("answers CORS preflight exposing the rate-limit headers", async () => {
    const res = await call(`/api/${project.id}/envelope/`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect([200, 204]).toContain(res.status);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const post = await call(`/api/${project.id}/envelope/?sentry_key=${project.key}`, {
      method: "POST",
      body: minimal("4".repeat(32)),
      headers: { origin: "https://app.example" },
    });
    const exposed = (post.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    expect(exposed).toContain("x-sentry-rate-limits");
    expect(exposed).toContain("retry-after");
  });
});

describe("payload characters the queue cannot carry raw", () => {
  it("an item with a NUL character is stored intact, not dead-lettered", async () => {
    const p = await createTestProject("nul");
    const body = new TextEncoder().encode(`{}\n{"type":"future_thing"}\na\u0000b\n`);
    expect((await call(`/api/${p.id}/envelope/?sentry_key=${p.key}`, { method: "POST", body })).status).toBe(
      200,
    );
    const shard = await metaDbOf(p.id);
    const row = await waitFor(async () =>
      shard
        .prepare("SELECT event_id FROM events WHERE project_id = ?")
        .bind(Number(p.id))
        .first<{ event_id: string }>(),
    );
    const detail = await api<{ raw: string }>(`/api/v1/projects/${p.id}/events/${row.event_id}`);
    expect(detail.body.raw).toBe("a\u0000b");
    const dead = await env.DB.prepare("SELECT count(*) n FROM dead_letters").first<{ n: number }>();
    expect(dead!.n).toBe(0);
  });
});

const MiB = 1024 * 1024;
const brotli = (b: Uint8Array) =>
  zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
const zstdCompress = (b: Uint8Array) =>
  (zlib as unknown as { zstdCompressSync(b: Uint8Array): Uint8Array }).zstdCompressSync(b);

describe("br and zstd bodies", () => {
  it("stores a Python sentry-sdk envelope sent as br, and a @sentry/node one sent as zstd", async () => {
    const p = await createTestProject("br");
    const br = await sendFixture("python-exception", {
      project: p,
      body: brotli(fixtureBytes("python-exception")),
      headers: { "content-encoding": "br" },
    });
    expect(br.status).toBe(200);
    const event = (await eventDetail(p, eventIdOf("python-exception"))).event as { type: string };
    expect(event.type).toBe("KeyError");
    const zs = await sendFixture("node-exception", {
      project: p,
      body: zstdCompress(fixtureBytes("node-exception")),
      headers: { "content-encoding": "zstd" },
    });
    expect(zs.status).toBe(200);
    expect(await zs.json()).toEqual({ id: eventIdOf("node-exception") });
    await eventDetail(p, eventIdOf("node-exception"));
  });

  it("answers 413 for br and zstd bombs (64 MiB of zeros in a few KB) and 400 for a corrupt br body", async () => {
    const q = `?sentry_key=${project.key}`;
    const zeros = new Uint8Array(64 * MiB);
    for (const [encoding, body] of [
      ["br", brotli(zeros)],
      ["zstd", zstdCompress(zeros)],
    ] as const) {
      expect(body.byteLength).toBeLessThan(64 * 1024);
      const res = await call(`/api/${project.id}/envelope/${q}`, {
        method: "POST",
        body,
        headers: { "content-encoding": encoding },
      });
      expect(res.status, encoding).toBe(413);
      expect(await res.json()).toMatchObject({
        detail: `envelope exceeds the limit of ${20 * MiB} bytes after decompression`,
      });
    }
    const corrupt = await call(`/api/${project.id}/envelope/${q}`, {
      method: "POST",
      body: "definitely not brotli",
      headers: { "content-encoding": "br" },
    });
    expect(corrupt.status).toBe(400);
    expect(await corrupt.json()).toEqual({
      detail: "failed to read request body",
      causes: ["failed to decode br payload"],
    });
  });
});

describe("authentication before decompression and parsing", () => {
  const zlibBase64 = (text: string) => btoa(String.fromCharCode(...zlib.deflateSync(text)));
  // 24 MiB of JSON inflated from ~32 KB of base64 (the store-endpoint bomb).
  const storeBomb = () => {
    const packed = zlib.deflateSync(`{"message":"${"a".repeat(24 * MiB)}"}`);
    let bin = "";
    for (let i = 0; i < packed.length; i += 8192) bin += String.fromCharCode(...packed.subarray(i, i + 8192));
    return btoa(bin);
  };

  it("store: a base64+zlib event is stored; a bomb is 401 without a key, 403 with a stranger's, 413 with the right one", async () => {
    const p = await createTestProject("store-zlib");
    const ok = await call(`/api/${p.id}/store/?sentry_key=${p.key}`, {
      method: "POST",
      body: zlibBase64(JSON.stringify({ event_id: "5".repeat(32), message: "zlib legacy", level: "error" })),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: "5".repeat(32) });
    await eventDetail(p, "5".repeat(32));

    const bomb = storeBomb();
    expect(bomb.length).toBeLessThan(64 * 1024);
    const none = await call(`/api/${p.id}/store/`, { method: "POST", body: bomb });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ detail: "missing authorization information" });
    const stranger = await call(`/api/${p.id}/store/?sentry_key=${"f".repeat(32)}`, {
      method: "POST",
      body: bomb,
    });
    expect(stranger.status).toBe(403);
    const owner = await call(`/api/${p.id}/store/?sentry_key=${p.key}`, { method: "POST", body: bomb });
    expect(owner.status).toBe(413);
    // The inflate stopped at the event limit (a whole inflate reaches the envelope's size check).
    expect(await owner.json()).toMatchObject({
      detail: `event exceeds the limit of ${MiB} bytes after decompression`,
    });
  });

  it("envelope: items are not parsed before auth, whether the key is missing or only in a tunnel's dsn", async () => {
    const p = await createTestProject("auth-first");
    const malformedItems = "garbage\n".repeat(10);
    const none = await call(`/api/${p.id}/envelope/`, { method: "POST", body: `{}\n${malformedItems}` });
    expect(none.status).toBe(401);
    const strangerDsn = JSON.stringify({ dsn: `http://${"f".repeat(32)}@sluice.test/${p.id}` });
    const stranger = await call(`/api/${p.id}/envelope/`, {
      method: "POST",
      body: `${strangerDsn}\n${malformedItems}`,
    });
    expect(stranger.status).toBe(403);
    // The owner's tunnel dsn authenticates, and only then are the items found malformed.
    const ownerDsn = JSON.stringify({ dsn: `http://${p.key}@sluice.test/${p.id}` });
    const owner = await call(`/api/${p.id}/envelope/`, {
      method: "POST",
      body: `${ownerDsn}\n${malformedItems}`,
    });
    expect(owner.status).toBe(400);
  });

  it("envelope: a tunnel's body is decoded only up to its header line before the dsn is authenticated", async () => {
    const p = await createTestProject("tunnel-head");
    // A gzip body whose envelope header is followed by 1 MiB (incompressible) and is cut short:
    // decoding it all fails (400), so a stranger's 403 shows nothing much past the header was decoded.
    const gzipHeaderThenGarbage = (header: string) => {
      const noise = new Uint8Array(1024 * 1024);
      for (let i = 0; i < noise.byteLength; i += 65536) crypto.getRandomValues(noise.subarray(i, i + 65536));
      const text = new TextEncoder().encode(`${header}\n`);
      const whole = new Uint8Array(text.byteLength + noise.byteLength);
      whole.set(text);
      whole.set(noise, text.byteLength);
      const gz = zlib.gzipSync(whole);
      return gz.subarray(0, gz.byteLength - 4096);
    };
    const send = (header: string) =>
      call(`/api/${p.id}/envelope/`, {
        method: "POST",
        body: gzipHeaderThenGarbage(header),
        headers: { "content-encoding": "gzip" },
      });
    const stranger = await send(JSON.stringify({ dsn: `http://${"f".repeat(32)}@sluice.test/${p.id}` }));
    expect(stranger.status).toBe(403);
    // The project's own dsn gets the whole body decoded, and so finds it corrupt.
    const owner = await send(JSON.stringify({ dsn: `http://${p.key}@sluice.test/${p.id}` }));
    expect(owner.status).toBe(400);
    expect(await owner.json()).toMatchObject({ detail: "failed to read request body" });
  });

  it("envelope: 20 MB of tiny items stops at the item cap, by query key or by tunnel dsn", async () => {
    const p = await createTestProject("tiny-items");
    const items = '{"type":"x"}\n\n'.repeat(1_450_000);
    const dsn = JSON.stringify({ dsn: `http://${p.key}@sluice.test/${p.id}` });
    for (const [path, header] of [
      [`/api/${p.id}/envelope/?sentry_key=${p.key}`, "{}"],
      [`/api/${p.id}/envelope/`, dsn],
    ] as const) {
      const body = new TextEncoder().encode(`${header}\n${items}`);
      expect(body.byteLength).toBeGreaterThan(20_000_000);
      const res = await call(path, { method: "POST", body });
      expect(res.status, path).toBe(413);
      // A whole parse would report the count it reached (1,450,000).
      expect(await res.json()).toMatchObject({
        detail: "envelope exceeded size limits: more than 1000 items",
      });
    }
  });
});
