// A search document always fits an index queue message (≤ 128 KB, packed to ~100 KB): whatever the
// event carries (tags, frames, names, non-ASCII text), its document is cut, never dropped, and
// what the console lists from it (type, message, release...) still reads as the event's.
import { describe, expect, it } from "vitest";
import type { CanonicalEvent, StackFrame } from "../../shared/event";
import { utf8Length } from "../../shared/queue-codec";
import { jsEvent } from "../../shared/sourcemaps/test-helpers";
import { MAX_DOC_BYTES, toSearchDoc } from "./search-doc";

const frame = (fn: string, filename = "app.js"): StackFrame => ({
  filename,
  function: fn,
  module: null,
  lineno: 1,
  colno: 1,
  inApp: true,
});

/** A JavaScript error with one frame in `main`, changed by `over`. */
const event = (over: Partial<CanonicalEvent> = {}): CanonicalEvent =>
  jsEvent([frame("main")], { type: "TypeError", message: "boom", ...over });

const bytesOf = (e: CanonicalEvent) =>
  utf8Length(JSON.stringify(toSearchDoc(e, "g".repeat(16), "f".repeat(32))));

describe("toSearchDoc size", () => {
  const hostile: [string, Partial<CanonicalEvent>][] = [
    [
      "21,000 tags",
      { tags: Object.fromEntries(Array.from({ length: 21_000 }, (_, i) => [String(i), "true"])) },
    ],
    [
      "a 300 KB function name",
      { exceptions: [{ type: "E", value: "m", frames: [frame("f".repeat(300_000))] }] },
    ],
    [
      "60 frames of 5,000-character CJK file names",
      {
        exceptions: [
          { type: "E", value: "m", frames: Array.from({ length: 60 }, () => frame("f", "名".repeat(5000))) },
        ],
      },
    ],
    ["a 100 KB platform (a Raygun client name)", { platform: "raygun4x".repeat(12_500) }],
    ["a message of control characters (6 bytes each in JSON)", { message: "\u0001".repeat(8192) }],
    ["a 100 KB type and user", { type: "T".repeat(100_000), user: { id: "u".repeat(100_000) } }],
    [
      "100 tags of 200 CJK characters each",
      {
        tags: Object.fromEntries(
          Array.from({ length: 100 }, (_, i) => [`${i}${"鍵".repeat(199)}`, "値".repeat(200)]),
        ),
      },
    ],
  ];
  it.each(hostile)("stays under MAX_DOC_BYTES with %s", (_name, over) => {
    expect(MAX_DOC_BYTES).toBeLessThanOrEqual(50_000);
    expect(bytesOf(event(over))).toBeLessThanOrEqual(MAX_DOC_BYTES);
  });

  it("cuts, never drops: the document keeps the first tags, stack lines and the start of each field", () => {
    const doc = toSearchDoc(
      event({
        type: "T".repeat(100_000),
        tags: Object.fromEntries(Array.from({ length: 21_000 }, (_, i) => [String(i), "true"])),
        exceptions: [{ type: "E", value: "m", frames: [frame("ok"), frame("f".repeat(300_000))] }],
        platform: "raygun4x".repeat(12_500),
      }),
      null,
      null,
    );
    expect(doc.tags["0"]).toBe("true");
    expect(Object.keys(doc.tags).length).toBeGreaterThan(0);
    expect(Object.keys(doc.tags).length).toBeLessThanOrEqual(100);
    const lines = doc.stack.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.startsWith("fff")).toBe(true);
    expect(lines[1]).toBe("ok app.js");
    expect(doc.type!.startsWith("TTT")).toBe(true);
    expect(doc.platform!.startsWith("raygun4x")).toBe(true);
  });

  it("keeps a legit 2,000-character Japanese message whole (6 KB of UTF-8)", () => {
    const message = "入力値が不正です。".repeat(230).slice(0, 2000);
    const doc = toSearchDoc(event({ message }), null, null);
    expect(doc.message).toBe(message);
  });

  it("never splits a surrogate pair", () => {
    const doc = toSearchDoc(event({ message: "😀".repeat(5000) }), null, null);
    expect(doc.message.length % 2).toBe(0);
    expect(doc.message).toBe("😀".repeat(doc.message.length / 2));
  });
});
