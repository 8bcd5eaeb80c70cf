// The affected-users sketch: MurmurHash3 against its published vectors, the estimate within the
// error the README states, and the SQL merge D1 runs equal to the in-memory merge.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { estimateUsers, HLL_REGISTERS, HLL_STANDARD_ERROR, Hll, hllMergeSql, murmur3 } from "./hll";

const sketchOf = (keys: Iterable<string>) => {
  const s = new Hll();
  for (const k of keys) s.add(k);
  return s;
};
const range = (from: number, to: number, prefix = "user-") =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe("MurmurHash3 x86 32", () => {
  it("matches the reference implementation's vectors", () => {
    expect(murmur3("", 0)).toBe(0);
    expect(murmur3("hello", 0)).toBe(0x248bfa47);
    expect(murmur3("The quick brown fox jumps over the lazy dog", 0)).toBe(0x2e4ff723);
  });
});

describe("HyperLogLog", () => {
  it("states a 3.25 % standard error for its 1,024 registers", () => {
    expect(HLL_REGISTERS).toBe(1024);
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.0325, 4);
  });

  it("estimates 10,000 distinct users within two standard errors", () => {
    const s = sketchOf(range(0, 10_000));
    const err = Math.abs(s.estimate() - 10_000) / 10_000;
    expect(err).toBeLessThan(2 * HLL_STANDARD_ERROR);
  });

  it("stays within three standard errors from 10 to 1,000,000 users, in several key spaces", () => {
    for (const n of [10, 100, 1_000, 50_000, 1_000_000])
      for (const prefix of ["id:", "ip:10.0.", "u:customer-"]) {
        const est = sketchOf(range(0, n, prefix)).estimate();
        // Tiny counts are exact but for two users sharing a register (linear counting).
        const bound = n <= 100 ? Math.max(1, 0.05 * n) : 3 * HLL_STANDARD_ERROR * n;
        expect(Math.abs(est - n), `${prefix} × ${n}: ${est}`).toBeLessThanOrEqual(bound);
      }
  });

  it("counts a user seen many times once, and an empty sketch as zero", () => {
    const keys = range(0, 7);
    const s = sketchOf(Array.from({ length: 5000 }, (_, i) => keys[i % 7]!));
    expect(s.encode()).toBe(sketchOf(keys).encode());
    expect(Math.abs(s.estimate() - 7)).toBeLessThanOrEqual(1);
    expect(new Hll().estimate()).toBe(0);
    expect(estimateUsers(null)).toBe(0);
  });

  it("merges to the sketch of the union (overlap counted once) and round-trips its encoding", () => {
    const a = sketchOf(range(0, 6000));
    const b = sketchOf(range(4000, 10_000));
    const union = sketchOf(range(0, 10_000));
    a.merge(b);
    expect(a.encode()).toBe(union.encode());
    expect(Hll.decode(a.encode()).encode()).toBe(a.encode());
    expect(a.encode()).toHaveLength(HLL_REGISTERS);
  });

  it("reads anything malformed as an empty sketch instead of throwing", () => {
    for (const bad of ["", "zz", "!".repeat(HLL_REGISTERS), undefined])
      expect(Hll.decode(bad as string).estimate()).toBe(0);
  });
});

describe("hllMergeSql in D1", () => {
  const dialect = new SQLiteAsyncDialect();
  const mergeInD1 = async (a: string | null, b: string | null) => {
    const q = dialect.sqlToQuery(sql`SELECT ${hllMergeSql(sql`${a}`, sql`${b}`)} AS m`);
    return (
      (
        await env.DB.prepare(q.sql)
          .bind(...q.params)
          .first<{ m: string | null }>()
      )?.m ?? null
    );
  };

  it("is the register-wise max, in register order, exactly as the in-memory merge", async () => {
    const a = sketchOf(range(0, 3000));
    const b = sketchOf(range(2000, 9000, "x-"));
    const expected = Hll.decode(a.encode());
    expected.merge(b);
    expect(await mergeInD1(a.encode(), b.encode())).toBe(expected.encode());
    expect(await mergeInD1(b.encode(), a.encode())).toBe(expected.encode());
  });

  it("keeps the other side when one is NULL", async () => {
    const a = sketchOf(range(0, 10)).encode();
    expect(await mergeInD1(a, null)).toBe(a);
    expect(await mergeInD1(null, a)).toBe(a);
    expect(await mergeInD1(null, null)).toBeNull();
  });
});
