// Segment blocks against the real local R2: every record range-reads back exactly from its block,
// blocks never mix projects, a record larger than a block gets one of its own, and records of
// segments written before blocks (one compressed record per range) still read.
import { env } from "cloudflare:workers";
import { brotliCompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  BLOCK_BYTES,
  decodeRecord,
  packSegment,
  type RecordHeader,
  readDirectory,
  readRecord,
} from "./segments";

const header = (eventId: string, projectId: string): RecordHeader => ({
  eventId,
  projectId,
  protocol: "raygun",
  itemType: "entry",
  category: "error",
  receivedAt: 1_700_000_000_000,
});

/** A Raygun-like report; `n` varies its content and size. */
const report = (n: number, pad = 0) =>
  JSON.stringify({
    occurredOn: "2026-11-30T10:00:00Z",
    details: {
      error: { className: "TypeError", message: `Cannot read 'x${n}' é€😀`, stackTrace: [{ lineNumber: n }] },
      userCustomData: { pad: "abcdefghij".repeat(pad), n },
    },
  });

describe("segment blocks", () => {
  it("read every record back exactly, keep projects apart, and give an oversize record its own block", async () => {
    const entries: { eventId: string; projectId: string; category: string; payload: string | Uint8Array }[] =
      [];
    for (let i = 0; i < 60; i++) {
      const projectId = i % 3 === 0 ? "7" : "8";
      // Record 5 is bigger than a block on its own.
      const payload = i === 5 ? report(i, Math.ceil((1.2 * BLOCK_BYTES) / 10)) : report(i, i * 80);
      entries.push({
        eventId: `e${i}`,
        projectId,
        category: "error",
        // Payloads come as text, or as bytes (claim checks read from R2).
        payload: i % 4 === 1 ? new TextEncoder().encode(payload) : payload,
      });
    }
    // The same client event id in two projects: each reads back its own.
    entries.push({ eventId: "e1", projectId: "7", category: "error", payload: report(1001) });
    const records = entries.map((e) => ({ header: header(e.eventId, e.projectId), payload: e.payload }));
    const { body, refs, directory } = packSegment(entries, (i) => records[i]!);
    const key = `segments/test/${crypto.randomUUID()}`;
    await env.BLOBS.put(key, body, { customMetadata: { directory } });

    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const rec = await readRecord(env.BLOBS, key, refs[i]!, { eventId: e.eventId, projectId: e.projectId });
      const want = typeof e.payload === "string" ? e.payload : new TextDecoder().decode(e.payload);
      expect(new TextDecoder().decode(rec!.payload), `record ${i}`).toBe(want);
      expect(rec!.header).toEqual(header(e.eventId, e.projectId));
    }
    // Blocks hold several records but never two projects' records.
    const members = new Map<string, Set<string>>();
    refs.forEach((r, i) => {
      const k = `${r.offset}+${r.length}`;
      (members.get(k) ?? members.set(k, new Set()).get(k)!).add(entries[i]!.projectId);
    });
    expect(members.size).toBeLessThan(entries.length / 3);
    for (const projects of members.values()) expect(projects.size).toBe(1);
    // The oversize record (> BLOCK_BYTES on its own) shares its block with nobody.
    expect(records[5]!.payload.length).toBeGreaterThan(BLOCK_BYTES);
    expect(refs.filter((r) => r.offset === refs[5]!.offset)).toHaveLength(1);
    // A block's uncompressed size stays near BLOCK_BYTES: a read inflates little more than a block.
    for (const [k] of members) {
      const [offset, length] = k.split("+").map(Number);
      const plain = (await import("node:zlib")).brotliDecompressSync(
        body.subarray(offset!, offset! + length!),
      );
      if (offset !== refs[5]!.offset) expect(plain.byteLength).toBeLessThan(BLOCK_BYTES + 4096);
    }
    // A block answers only for its own records; the directory lists every record where it is.
    expect(
      decodeRecord(body.subarray(refs[0]!.offset, refs[0]!.offset + refs[0]!.length), {
        eventId: "e0",
        projectId: "8",
      }),
    ).toBeNull();
    const listed = await readDirectory(env.BLOBS, key);
    expect(listed!.map((d) => [d.eventId, d.projectId, d.offset, d.length])).toEqual(
      entries.map((e, i) => [e.eventId, e.projectId, refs[i]!.offset, refs[i]!.length]),
    );
    await env.BLOBS.delete(key);
  });

  it("store similar reports in fewer bytes than each compressed alone", () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      eventId: `s${i}`,
      projectId: "9",
      category: "error",
    }));
    const records = entries.map((e, i) => ({
      header: header(e.eventId, e.projectId),
      payload: report(i, 50 + (i % 7) * 30),
    }));
    // What the processor stored before blocks: each record (header line, payload) compressed alone.
    const alone = records.reduce(
      (n, r) => n + brotliCompressSync(`${JSON.stringify(r.header)}\n${r.payload}`).byteLength,
      0,
    );
    const { directory } = packSegment(entries, (i) => records[i]!);
    const blocksBytes = Number(directory.split("+")[0]);
    expect(blocksBytes).toBeLessThan(alone * 0.8);
  });

  it("store text longer in UTF-8 than the room first made for it, exactly", () => {
    // 60,000 UTF-16 units that take 140,000 bytes: the block's buffer grows while the text is written.
    const wide = JSON.stringify({ message: "€😀".repeat(20_000) });
    const entries = [
      { eventId: "a", projectId: "5", category: "error" },
      { eventId: "b", projectId: "5", category: "error" },
    ];
    const payloads = [report(1), wide];
    const { body, refs } = packSegment(entries, (i) => ({
      header: header(entries[i]!.eventId, "5"),
      payload: payloads[i]!,
    }));
    for (let i = 0; i < 2; i++) {
      const ref = refs[i]!;
      const rec = decodeRecord(body.subarray(ref.offset, ref.offset + ref.length), {
        eventId: entries[i]!.eventId,
        projectId: "5",
      });
      expect(new TextDecoder().decode(rec!.payload)).toBe(payloads[i]);
    }
  });

  it("read a record of a segment written before blocks: one record compressed alone per range", () => {
    const payload = report(3, 10);
    const old = brotliCompressSync(
      new TextEncoder().encode(`${JSON.stringify(header("old", "4"))}\n${payload}`),
    );
    const rec = decodeRecord(old, { eventId: "old", projectId: "4" });
    expect(rec!.header.eventId).toBe("old");
    expect(new TextDecoder().decode(rec!.payload)).toBe(payload);
  });
});
