// The hashes behind grouping are remembered per input (a bounded memo): a remembered hash must be
// the one a fresh computation gives, whatever the order, the memo's clearing or the input's size.
import { describe, expect, it } from "vitest";
import type { CanonicalEvent } from "../event";
import { jsEvent } from "../sourcemaps/test-helpers";
import { computeFingerprint, GROUPING_VERSION, groupIdFor, sha256Hex } from "./fingerprint";

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
