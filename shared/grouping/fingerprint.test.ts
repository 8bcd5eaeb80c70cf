// The hashes behind grouping are remembered per input (a bounded memo): a remembered hash must be
// the one a fresh computation gives, whatever the order, the memo's clearing or the input's size.
import { describe, expect, it } from "vitest";
import type { CanonicalEvent } from "../event";
import { computeFingerprint, GROUPING_VERSION, groupIdFor, sha256Hex } from "./fingerprint";

function errorEvent(type: string, fn: string): CanonicalEvent {
  return {
    eventId: "e".repeat(32),
    projectId: "7",
    protocol: "raygun",
    category: "error",
    occurredAt: "2026-11-30T09:00:00.000Z",
    receivedAt: "2026-11-30T09:00:00.000Z",
    level: "error",
    platform: "node",
    type,
    message: "boom",
    exceptions: [
      {
        type,
        value: "boom",
        frames: [{ filename: "/srv/app/a.js", function: fn, module: null, lineno: 1, colno: 1, inApp: true }],
      },
    ],
    release: null,
    environment: null,
    serverName: null,
    transaction: null,
    user: null,
    tags: {},
    request: null,
    breadcrumbs: [],
    contexts: {},
    extra: {},
    client: { ip: null, userAgent: null, country: null, colo: null },
    sdk: { name: null, version: null },
    fingerprint: null,
  };
}

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
