// The record of shards a project left (projects.left_shards), which the processor's ledger look-ups
// follow for the queue's retention after a move: parsed leniently, pruned and kept one per shard.
import { describe, expect, it } from "vitest";
import { leftShardsAfterMove, shardsLeft } from "./shards";

const DAY = 86_400_000;

describe("shardsLeft", () => {
  it("reads left_shards, else the single moved_from/moved_at pair of an older move", () => {
    expect([...shardsLeft('{"1": 100, "3": 200}', 2, 300)]).toEqual([
      [1, 100],
      [3, 200],
    ]);
    expect([...shardsLeft(null, 2, 300)]).toEqual([[2, 300]]);
    expect([...shardsLeft(null, null, null)]).toEqual([]);
  });

  it("skips what is not a shard number with a finite time, and malformed JSON", () => {
    expect([...shardsLeft('{"x": 1, "-1": 2, "2": "soon", "4": 5}', null, null)]).toEqual([[4, 5]]);
    expect([...shardsLeft("[1, 2]", null, null)]).toEqual([]);
    expect([...shardsLeft("{not json", 1, 2)]).toEqual([]);
  });
});

describe("leftShardsAfterMove", () => {
  const now = 10 * DAY;
  it("adds the shard left, drops the shard moved to and what the queue can no longer redeliver", () => {
    const before = new Map([
      [0, now - 5 * DAY], // older than the queue's 4 days: gone
      [1, now - DAY],
      [2, now - 2 * DAY], // the project moves back here: gone
    ]);
    expect(JSON.parse(leftShardsAfterMove(before, 3, 2, now, 4 * DAY))).toEqual({
      "1": now - DAY,
      "3": now,
    });
  });

  it("renews a shard left again, and records nothing for a move to where the project is", () => {
    const before = new Map([[1, now - DAY]]);
    expect(JSON.parse(leftShardsAfterMove(before, 1, 0, now, 4 * DAY))).toEqual({ "1": now });
    expect(JSON.parse(leftShardsAfterMove(before, 0, 0, now, 4 * DAY))).toEqual({ "1": now - DAY });
  });
});
