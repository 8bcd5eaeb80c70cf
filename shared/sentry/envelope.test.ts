import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import {
  createsEvent,
  itemCategory,
  parseEnvelope,
  parseEnvelopeHeader,
  parseEnvelopeItems,
  serializeEnvelope,
  sluiceCategory,
} from "./envelope";
import { fixtureBytes, fixtures } from "./fixtures";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const HDR = '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}';

function causeOf(input: string | Uint8Array): string {
  try {
    parseEnvelope(typeof input === "string" ? enc(input) : input);
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    const err = e as ClientError;
    expect(err.status).toBe(400);
    expect(err.message).toBe("invalid envelope");
    return err.causes.join("; ");
  }
  throw new Error("expected parseEnvelope to throw");
}

describe("parseEnvelope: valid forms", () => {
  it("accepts a headers-only envelope, with or without a trailing newline", () => {
    expect(parseEnvelope(enc(HDR))).toEqual({
      headers: { event_id: "9ec79c33ec9942ab8353589fcb2e04dc" },
      items: [],
    });
    expect(parseEnvelope(enc(`${HDR}\n`)).items).toEqual([]);
    expect(parseEnvelope(enc("{}")).headers).toEqual({});
  });

  it("reads implicit-length payloads to the next newline or EOF, keeping \\r", () => {
    const env = parseEnvelope(enc(`${HDR}\n{"type":"attachment"}\nhello\r\n{"type":"event"}\n{"a":1}`));
    expect(env.items.map((i) => text(i.payload))).toEqual(["hello\r", '{"a":1}']);
    const trailing = parseEnvelope(enc(`${HDR}\n{"type":"event"}\n{"a":1}\n`));
    expect(trailing.items).toHaveLength(1);
  });

  it("reads an implicit-length item that ends right after its header", () => {
    const env = parseEnvelope(enc(`${HDR}\n{"type":"attachment"}`));
    expect(env.items[0]!.payload.length).toBe(0);
  });

  it("reads explicit-length payloads byte-exactly, newlines and binary included", () => {
    const payload = new Uint8Array([0x00, 0x0a, 0x0d, 0xff, 0x7b, 0x0a]);
    const head = enc(`${HDR}\n{"type":"attachment","length":6,"filename":"b.bin"}\n`);
    const tail = enc('\n{"type":"event","length":2}\n{}');
    const bytes = new Uint8Array([...head, ...payload, ...tail]);
    const env = parseEnvelope(bytes);
    expect(env.items).toHaveLength(2);
    expect([...env.items[0]!.payload]).toEqual([...payload]);
    expect(env.items[0]!.headers.filename).toBe("b.bin");
    expect(text(env.items[1]!.payload)).toBe("{}");
  });

  it("accepts zero-length explicit items (Relay's empty_item_newline case)", () => {
    const env = parseEnvelope(
      enc(`${HDR}\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}\n`),
    );
    expect(env.items.map((i) => i.payload.length)).toEqual([0, 0]);
  });

  it("keeps unknown item types and unknown header keys", () => {
    const env = parseEnvelope(
      enc(`{"x_custom":[1,{"y":2}]}\n{"type":"invalid_unknown","zz":true}\nhelloworld\n`),
    );
    expect(env.headers).toEqual({ x_custom: [1, { y: 2 }] });
    expect(env.items[0]!.headers).toEqual({ type: "invalid_unknown", zz: true });
    expect(text(env.items[0]!.payload)).toBe("helloworld");
  });

  it("handles braces and escaped quotes inside header strings", () => {
    const env = parseEnvelope(enc('{"a":"}\\"{"}\n{"type":"event","filename":"x}"}\n{}'));
    expect(env.headers.a).toBe('}"{');
    expect(env.items[0]!.headers.filename).toBe("x}");
  });

  it("round-trips through serializeEnvelope with explicit lengths", () => {
    const bytes = fixtureBytes("node-attachment");
    const env = parseEnvelope(bytes);
    const again = parseEnvelope(serializeEnvelope(env));
    expect(again.headers).toEqual(env.headers);
    expect(again.items.map((i) => i.headers.type)).toEqual(env.items.map((i) => i.headers.type));
    again.items.forEach((item, i) => {
      expect([...item.payload]).toEqual([...env.items[i]!.payload]);
      expect(item.headers.length).toBe(item.payload.length);
    });
  });
});

describe("parseEnvelope: malformed forms", () => {
  it("rejects an empty body (no header line)", () => {
    expect(causeOf("")).toMatch(/missing envelope header/);
    expect(causeOf("\n")).toMatch(/missing envelope header/);
  });
  it("rejects a header that is not JSON or not an object", () => {
    expect(causeOf("not json\n")).toMatch(/invalid envelope header/);
    expect(causeOf('{"a":}\n')).toMatch(/invalid envelope header/);
    expect(causeOf("[1]\n")).toMatch(/expected a JSON object/);
    expect(causeOf('{"a":1')).toMatch(/unterminated/);
  });
  it("rejects garbage after the header's closing brace", () => {
    expect(causeOf('{} x\n{"type":"event"}\n{}')).toMatch(/missing newline after envelope header/);
  });
  it("rejects an invalid event_id, sent_at, or a duplicated sent_at", () => {
    expect(causeOf('{"event_id":"nope"}')).toMatch(/event_id/);
    expect(causeOf('{"sent_at":"yesterday"}')).toMatch(/sent_at/);
    expect(causeOf('{"sent_at":"2026-01-01T00:00:00Z","sent_at":"2026-01-01T00:00:01Z"}')).toMatch(
      /duplicate field `sent_at`/,
    );
  });
  it("rejects an item header without type, or with a bad length", () => {
    expect(causeOf(`${HDR}\n{"length":2}\n{}`)).toMatch(/missing field `type`/);
    expect(causeOf(`${HDR}\n{"type":5}\n{}`)).toMatch(/missing field `type`/);
    expect(causeOf(`${HDR}\n{"type":"event","length":-1}\n{}`)).toMatch(/length/);
    expect(causeOf(`${HDR}\n{"type":"event","length":"2"}\n{}`)).toMatch(/length/);
    expect(causeOf(`${HDR}\n{"type":"event","length":1.5}\n{}`)).toMatch(/length/);
  });
  it("rejects an item header that is not JSON", () => {
    expect(causeOf(`${HDR}\n{"type":"event"\n{}`)).toMatch(/item header/);
    expect(causeOf(`${HDR}\ngarbage\n{}`)).toMatch(/item header at byte \d+: expected a JSON object/);
  });
  it("rejects a length running past EOF", () => {
    expect(causeOf(`${HDR}\n{"type":"attachment","length":10}\nshort`)).toMatch(
      /unexpected end of file.*declares length 10 but only 5 bytes follow/,
    );
  });
  it("rejects garbage after an explicit-length payload", () => {
    expect(causeOf(`${HDR}\n{"type":"attachment","length":2}\nhiX\n`)).toMatch(
      /missing newline after payload/,
    );
  });
  it("rejects an extra blank line after the last implicit item (not a single trailing newline)", () => {
    expect(causeOf(`${HDR}\n{"type":"event"}\n{}\n\n`)).toMatch(/unexpected end of file/);
  });
  it("rejects invalid UTF-8 in a header", () => {
    const bytes = new Uint8Array([...enc('{"a":"'), 0xff, ...enc('"}')]);
    expect(causeOf(bytes)).toMatch(/UTF-8/);
  });
  it("rejects garbage after an item header", () => {
    expect(causeOf(`${HDR}\n{"type":"event"}x\n{}`)).toMatch(/missing newline after item header/);
  });
});

describe("real SDK fixtures", () => {
  it("parses every captured body", () => {
    for (const name of Object.keys(fixtures) as (keyof typeof fixtures)[]) {
      if (name.endsWith(".gz")) continue;
      const env = parseEnvelope(fixtureBytes(name));
      expect(env.items.length, name).toBeGreaterThan(0);
    }
  });

  it("node attachment: binary payload with \\n and \\r survives, filename kept", () => {
    const env = parseEnvelope(fixtureBytes("node-attachment"));
    expect(env.items.map((i) => i.headers.type)).toEqual(["event", "attachment", "attachment"]);
    const bin = env.items[1]!;
    expect(bin.headers).toMatchObject({ filename: "dump.bin", length: 300 });
    expect([...bin.payload.subarray(0, 14)]).toEqual([...Array(14).keys()]);
    expect(text(env.items[2]!.payload)).toBe("line one\nline two\r\n");
  });

  it("python: explicit length on the event item, header auth", () => {
    const env = parseEnvelope(fixtureBytes("python-exception"));
    expect(env.items[0]!.headers.length).toBe(env.items[0]!.payload.length);
    expect(fixtures["python-exception"].headers["x-sentry-auth"]).toMatch(/^Sentry sentry_key=/);
  });

  it("the gzip body decompresses to the same envelope", async () => {
    const gz = fixtureBytes("node-large.gz");
    const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"));
    const plain = new Uint8Array(await new Response(stream).arrayBuffer());
    expect(plain.length).toBeGreaterThan(32 * 1024);
    expect([...plain]).toEqual([...fixtureBytes("node-large")]);
    expect(fixtures["node-large.gz"].headers["content-encoding"]).toBe("gzip");
  });

  it("node v11 streams spans as a span v2 container", () => {
    const env = parseEnvelope(fixtureBytes("node-spans"));
    expect(env.items[0]!.headers).toMatchObject({
      type: "span",
      item_count: 2,
      content_type: "application/vnd.sentry.items.span.v2+json",
    });
  });
});

describe("item categories", () => {
  it("map item types to Relay's data categories", () => {
    expect(itemCategory("event")).toBe("error");
    expect(itemCategory("transaction")).toBe("transaction");
    expect(itemCategory("sessions")).toBe("session");
    expect(itemCategory("client_report")).toBe("internal");
    expect(itemCategory("user_report")).toBe("default");
    expect(itemCategory("check_in")).toBe("monitor");
    expect(itemCategory("log")).toBe("log_item");
    expect(itemCategory("profile_chunk")).toBe("profile");
    expect(itemCategory("replay_recording")).toBe("replay");
    expect(itemCategory("something_new")).toBeNull();
    expect(itemCategory("constructor")).toBeNull();
  });
  it("map item types to Sluice categories", () => {
    expect(sluiceCategory("event")).toBe("error");
    expect(sluiceCategory("feedback")).toBe("user_report");
    expect(sluiceCategory("check_in")).toBe("check_in");
    expect(sluiceCategory("something_new")).toBe("default");
  });
  it("know which items create an event", () => {
    expect(createsEvent("event")).toBe(true);
    expect(createsEvent("attachment")).toBe(false);
    expect(createsEvent("attachment", "event.minidump")).toBe(true);
    expect(createsEvent("session")).toBe(false);
  });
});

function errorOf(fn: () => unknown): ClientError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error("expected a ClientError");
}

describe("parseEnvelope: header first, items bounded", () => {
  it("reads the header alone: malformed items after it are not looked at", () => {
    const bytes = enc(`{"dsn":"http://k@h/1"}\n${"garbage\n".repeat(1000)}`);
    const head = parseEnvelopeHeader(bytes);
    expect(head.headers).toEqual({ dsn: "http://k@h/1" });
    expect(head.offset).toBe('{"dsn":"http://k@h/1"}'.length + 1);
    expect(errorOf(() => parseEnvelopeItems(bytes, head)).causes.join()).toMatch(/item header at byte/);
  });

  it("stops at maxItems with 413: items past the cap are never parsed", () => {
    // 200,000 tiny items followed by a malformed one: a whole parse reaches the malformed tail and
    // answers 400; stopping at the cap answers 413 after 1,001 item headers.
    const tiny = '{"type":"x"}\n\n';
    const bytes = enc(`{}\n${tiny.repeat(200_000)}garbage\n`);
    const started = performance.now();
    const err = errorOf(() => parseEnvelope(bytes, { maxItems: 1000 }));
    expect(err).toMatchObject({
      status: 413,
      message: "envelope exceeded size limits: more than 1000 items",
    });
    // Reported, not asserted (timings belong to benchmarks): a whole parse takes seconds.
    console.log(`stopped after ${(performance.now() - started).toFixed(1)} ms`);
    expect(errorOf(() => parseEnvelope(bytes)).causes.join()).toMatch(
      /item header at byte \d+: expected a JSON object/,
    );
  });

  it("accepts exactly maxItems items", () => {
    const env = parseEnvelope(enc(`{}\n${'{"type":"x"}\n\n'.repeat(1000)}`), { maxItems: 1000 });
    expect(env.items).toHaveLength(1000);
  });
});
