// Affected users per group without a row per event: a HyperLogLog sketch of the distinct user keys
// (user id, else IP) a group has seen. The processor folds a batch's users into one sketch per
// group and D1 merges it into the group's row (register-wise max, hllMergeSql), so redelivery and
// group merges are harmless: max is idempotent and commutative.
//
// 2^10 = 1,024 registers → standard error 1.04 / √1024 ≈ 3.25 %. Registers are stored one
// character each ("0"-"9" then "a"-"v", i.e. 0..31, ascending in code points) so that SQLite's
// scalar max() over single characters is the register-wise max, with no custom SQL function.

import { type SQL, sql } from "drizzle-orm";

export const HLL_BITS = 10;
export const HLL_REGISTERS = 1 << HLL_BITS;
/** Relative standard error of the estimate (1.04 / √m). */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

const DIGITS = "0123456789abcdefghijklmnopqrstuv";
const encoder = new TextEncoder();

/** MurmurHash3 (x86, 32-bit) of the UTF-8 bytes: well mixed, so every bit is usable. */
export function murmur3(text: string, seed = 0x5eed): number {
  const b = encoder.encode(text);
  let h = seed >>> 0;
  const n = b.length & ~3;
  for (let i = 0; i < n; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = b.length & 3;
  if (rest > 0) {
    let k = b[n]!;
    if (rest > 1) k |= b[n + 1]! << 8;
    if (rest > 2) k |= b[n + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= b.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Hll {
  readonly registers = new Uint8Array(HLL_REGISTERS);

  /** The sketch a stored string holds; anything malformed reads as empty (it only under-counts). */
  static decode(text: string | null | undefined): Hll {
    const s = new Hll();
    if (typeof text !== "string" || text.length !== HLL_REGISTERS) return s;
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = DIGITS.indexOf(text[i]!);
      s.registers[i] = Math.max(v, 0);
    }
    return s;
  }

  add(key: string): void {
    const h = murmur3(key);
    const index = h >>> (32 - HLL_BITS);
    // The rank of the first 1 bit in the remaining 22 bits; the sentinel bit caps it at 23.
    const rank = Math.clz32((h << HLL_BITS) | (1 << (HLL_BITS - 1))) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  merge(other: Hll): void {
    for (let i = 0; i < HLL_REGISTERS; i++)
      if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!;
  }

  isEmpty(): boolean {
    return this.registers.every((r) => r === 0);
  }

  encode(): string {
    let out = "";
    for (const r of this.registers) out += DIGITS[r];
    return out;
  }

  /** The distinct-count estimate, with the small-range (linear counting) correction. */
  estimate(): number {
    const m = HLL_REGISTERS;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    const two32 = 2 ** 32;
    if (raw > two32 / 30) return Math.round(-two32 * Math.log(1 - raw / two32));
    return Math.round(raw);
  }
}

/** The distinct-count estimate of a stored sketch (0 for none). */
export const estimateUsers = (text: string | null | undefined) => Hll.decode(text).estimate();

const POSITIONS = JSON.stringify(Array.from({ length: HLL_REGISTERS }, (_, i) => i + 1));

/**
 * SQL for the register-wise max of two stored sketches (either may be NULL). Walks the 1,024
 * positions (json_each of a bound array, in order): CPU inside D1, no table rows read or written.
 */
export function hllMergeSql(a: SQL, b: SQL): SQL {
  return sql`(CASE WHEN ${a} IS NULL THEN ${b} WHEN ${b} IS NULL OR ${a} = ${b} THEN ${a} ELSE
    (SELECT group_concat(max(substr(${a}, json_each.value, 1), substr(${b}, json_each.value, 1)), '')
      FROM json_each(${POSITIONS})) END)`;
}

/** A sketch's non-zero registers as [index, rank] pairs: a batch's few users in a few bytes. */
export function sparseRegisters(s: Hll): [number, number][] {
  const out: [number, number][] = [];
  s.registers.forEach((r, i) => {
    if (r > 0) out.push([i, r]);
  });
  return out;
}

/** Adds [index, rank] pairs (sparseRegisters) to a sketch; out-of-range pairs are ignored. */
export function mergeSparse(s: Hll, pairs: unknown): void {
  if (!Array.isArray(pairs)) return;
  for (const pair of pairs) {
    if (!Array.isArray(pair)) continue;
    const [i, r] = pair as [unknown, unknown];
    if (typeof i !== "number" || typeof r !== "number" || i < 0 || i >= HLL_REGISTERS || r >= DIGITS.length)
      continue;
    if (r > s.registers[i]!) s.registers[i] = r;
  }
}
