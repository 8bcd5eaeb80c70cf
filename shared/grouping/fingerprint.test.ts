// The hashes behind grouping are remembered per input (a bounded memo): a remembered hash must be
// the one a fresh computation gives, whatever the order, the memo's clearing or the input's size.
import { describe, expect, it } from "vitest";
import { measureGrowth } from "../../test/linear-time";
import type { CanonicalEvent, StackFrame } from "../event";
import { jsEvent } from "../sourcemaps/test-helpers";
import {
  computeFingerprint,
  GROUPING_VERSION,
  groupIdFor,
  normalizeFilename,
  sha256Hex,
} from "./fingerprint";

/** An error of `type` with one in-app frame in `fn` (the rest as the source-map tests build events). */
const errorEvent = (type: string, fn: string): CanonicalEvent => {
  const frames = [
    { filename: "/srv/app/a.js", function: fn, module: null, lineno: 1, colno: 1, inApp: true },
  ];
  return jsEvent(frames, { type, exceptions: [{ type, value: "boom", frames }] });
};

describe("grouping hashes", () => {
  it("gives the fresh hash on first and repeated calls, across more inputs than the memo holds", async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i += 7) {
        const fp = (await sha256Hex(String(i))).slice(0, 32);
        expect(await groupIdFor(String(i % 13), fp)).toBe(await sha256Hex(`${i % 13}:${fp}`, 16));
      }
    }
  });

  it("hashes inputs too long to remember the same way", async () => {
    const fp = "f".repeat(2000);
    const want = await sha256Hex(`1:${fp}`, 16);
    expect(await groupIdFor("1", fp)).toBe(want);
    expect(await groupIdFor("1", fp)).toBe(want);
  });

  it("fingerprints an event as the hash of its components, remembered or not", async () => {
    for (let i = 0; i < 3; i++) {
      const g = await computeFingerprint(errorEvent("TypeError", `handler${i % 2}`));
      expect(g.fingerprint).toBe(await sha256Hex(`v${GROUPING_VERSION}\n${g.components.join("\n")}`));
      expect(g.components).toEqual(["type:TypeError", `frame:a.js:handler${i % 2}`]);
    }
  });
});

describe("client fingerprints are bounded", () => {
  // 2,000 frames alternating between two modules: 2,000 default components (recursion repeats
  // count once only when adjacent), as a 144 KB Sentry event can carry.
  const frames: StackFrame[] = Array.from({ length: 2000 }, (_, i) => ({
    filename: null,
    function: null,
    module: i % 2 ? "a" : "b",
    lineno: null,
    colno: null,
    inApp: true,
  }));
  const event = (fingerprint: string[], extra: Partial<CanonicalEvent> = {}) =>
    jsEvent(frames, { fingerprint, platform: "python", ...extra });

  it("expands {{ default }} once however often it is repeated", async () => {
    const once = await computeFingerprint(event(["{{ default }}", "x"]));
    const many = await computeFingerprint(event([...Array(60).fill("{{default}}"), "x"]));
    expect(many.components).toEqual(once.components);
    expect(many.fingerprint).toBe(once.fingerprint);
    const flood = await computeFingerprint(event(Array(100_000).fill("{{default}}")));
    expect(flood.components.length).toBeLessThanOrEqual(2001);
  });

  it("caps the entries, each entry and what its variables expand to", async () => {
    const g = await computeFingerprint(event(Array.from({ length: 10_000 }, (_, i) => `k${i}`)));
    expect(g.components.length).toBeLessThanOrEqual(64);
    const long = await computeFingerprint(
      event(["{{ function }}".repeat(40), "y".repeat(100_000)], {
        exceptions: [{ type: "E", value: "m", frames: [{ ...frames[0]!, function: "f".repeat(300_000) }] }],
      }),
    );
    for (const c of long.components) expect(c.length).toBeLessThanOrEqual(512 + "custom:".length);
  });

  it("reads at most the 16 exceptions nearest the raise", async () => {
    const exceptions = Array.from({ length: 1000 }, (_, i) => ({ type: `E${i}`, value: null, frames: [] }));
    const g = await computeFingerprint(jsEvent([], { exceptions }));
    expect(g.components).toEqual(Array.from({ length: 16 }, (_, i) => `type:E${984 + i}`));
  });
});

describe("normalizeFilename on hostile input", () => {
  // `?` after `?` up to a newline: /[?#].*$/ retried from each one (45 s on 160 KB).
  const hostile = (n: number) => `${"?".repeat(n)}\nx`;

  it("cuts the query at the first ? or #, a newline after it or not", () => {
    expect(normalizeFilename(hostile(100_000))).toBe("");
    expect(normalizeFilename("https://cdn.example/js/app.5AF331AD.min.js?v=1\n#x")).toBe("app.js");
    expect(normalizeFilename("/srv/app/a#b?c")).toBe("a");
  });

  it("is linear in its input", async () => {
    const g = await measureGrowth(normalizeFilename, hostile(2_000), hostile(20_000));
    expect(g.ratio, `${g.small.toFixed(2)} ms → ${g.large.toFixed(2)} ms`).toBeLessThanOrEqual(15);
  });
});
