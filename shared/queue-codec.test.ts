import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage, packItem, utf8Length } from "./queue-codec";
import type { IngestItem } from "./queue-message";

const item = (payload: string | undefined, extra: Partial<IngestItem> = {}): IngestItem => ({
  protocol: "raygun",
  category: "error",
  itemType: "entry",
  projectId: "1",
  eventId: "e".repeat(32),
  receivedAt: 1,
  client: { ip: null, userAgent: "ua\nwith newline", country: null, colo: null },
  payload,
  size: payload === undefined ? 10 : utf8Length(payload),
  ...extra,
});

describe("queue codec", () => {
  it("round-trips items with raw payloads (newlines, quotes, non-ASCII, empty) and claim checks", () => {
    const items = [
      item('{"a":"line\\nbreak \\"q\\""}\n'),
      item("é€😀"),
      item(""),
      item(undefined, { blobKey: "claims/1/x" }),
      item("nul \u0000 inside, which would end a queue text message"),
    ];
    const body = encodeMessage("m1", items.map(packItem), [
      { projectId: "1", category: "error", outcome: "filtered", reason: "x", quantity: 2, at: 5 },
    ]);
    const decoded = decodeMessage(body);
    expect(decoded.id).toBe("m1");
    expect(decoded.items).toEqual(items);
    expect(body.includes("\u0000")).toBe(false);
    expect(decoded.outcomes?.[0]?.quantity).toBe(2);
  });
  it("counts what the queue counts, UTF-8 bytes: non-ASCII headers and escaped (NUL) payloads", () => {
    const payload = `${"中".repeat(29_118)}${"\u0000".repeat(11_646)}`;
    const packed = packItem(item(payload, { meta: { note: "é".repeat(5000) } }));
    expect(packed.bytes).toBeGreaterThanOrEqual(utf8Length(packed.header) + utf8Length(packed.payload));
    expect(packed.headerBytes).toBe(utf8Length(packed.header));
    const plain = packItem(item("abc"));
    expect(plain.bytes).toBe(utf8Length(plain.header) + 3 + 1);
  });
  it("still decodes version 1 (plain JSON) and rejects junk and truncation", () => {
    expect(decodeMessage(JSON.stringify({ v: 1, id: "x", items: [] })).items).toEqual([]);
    expect(() => decodeMessage("not a batch")).toThrow();
    const body = encodeMessage("m", [packItem(item("abcdef"))], null);
    expect(() => decodeMessage(body.slice(0, -2))).toThrow(/truncated/);
    expect(() => decodeMessage(`${body}x`)).toThrow(/trailing/);
  });
  it("writes an item's header as the JSON of the item without its payload, every field included", () => {
    const policy = {
      scrubbing: { defaults: true, scrubIpAddresses: false, sensitiveFields: ["pin"] },
      retentionDays: 30,
    };
    const full = item('{"x":1}', {
      itemType: 'odd "type"\n',
      client: { ip: "203.0.113.7", userAgent: 'ua "quoted"', country: "DE", colo: "FRA", origin: null },
      meta: { rumType: "load", headers: { a: ["b"] } },
      binary: false,
      blobKey: "claims/1/e/m",
      policy,
    });
    const { payload: _payload, ...fields } = full;
    const { header } = packItem(full);
    expect(JSON.parse(header)).toEqual({ ...fields, pl: 7 });
    // Items sharing a policy object (one project) carry the same text; a changed one is its own.
    const other = { ...policy, retentionDays: 90 };
    expect(JSON.parse(packItem(item("{}", { policy: other })).header).policy).toEqual(other);
    expect(JSON.parse(packItem(item("{}", { policy })).header).policy).toEqual(policy);
    // Optional fields left out are absent, not null.
    expect(Object.keys(JSON.parse(packItem(item("{}")).header))).not.toContain("meta");
  });
  it("counts UTF-8 bytes", () => {
    expect(utf8Length("aé€😀")).toBe(1 + 2 + 3 + 4);
    expect(packItem(item("é")).bytes).toBeGreaterThan(2);
  });
});
