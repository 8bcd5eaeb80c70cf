// Glob patterns for the release and error-message filters: `*` any run of characters, `?` exactly
// one, case-insensitive. Compiled once per settings object. Matching never backtracks: a pattern
// is split at its stars into segments, the first and last are anchored, and every middle one is
// searched leftmost-first from where the previous one ended (leftmost is always safe for `*`), so
// the text is read once per pattern whatever the user wrote (no ReDoS from a settings glob).

type Matcher = (lowerText: string) => boolean;

/** A compiled set of globs; `test` is true when any pattern matches the whole text. */
export interface GlobSet {
  readonly size: number;
  test(text: string): boolean;
}

/**
 * @example compileGlobs(["1.0.*", "*-beta"]).test("1.0.3") // true
 */
export function compileGlobs(patterns: readonly string[]): GlobSet {
  const matchers: Matcher[] = [];
  for (const p of patterns) {
    if (p) matchers.push(compileGlob(p.toLowerCase()));
  }
  return {
    size: matchers.length,
    test(text: string): boolean {
      if (matchers.length === 0) return false;
      const lower = text.toLowerCase();
      for (const m of matchers) if (m(lower)) return true;
      return false;
    },
  };
}

/** One star-free piece of a pattern; `?` matches any one UTF-16 code unit. */
interface Segment {
  text: string;
  wild: boolean;
  /** Shift-And tables for segments with `?`: per code unit, the positions it may fill. */
  masks?: Map<number, Uint32Array>;
  any?: Uint32Array;
}

function segment(text: string): Segment {
  if (!text.includes("?")) return { text, wild: false };
  const words = Math.ceil(text.length / 32);
  const any = new Uint32Array(words);
  const masks = new Map<number, Uint32Array>();
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 63) any[i >>> 5]! |= 1 << (i & 31);
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 63) continue;
    let m = masks.get(c);
    if (!m) masks.set(c, (m = any.slice()));
    m[i >>> 5]! |= 1 << (i & 31);
  }
  return { text, wild: true, masks, any };
}

/** Whether `seg` matches `t` exactly at `at`. */
function matchesAt(seg: Segment, t: string, at: number): boolean {
  if (at < 0 || at + seg.text.length > t.length) return false;
  if (!seg.wild) return t.startsWith(seg.text, at);
  for (let i = 0; i < seg.text.length; i++) {
    const c = seg.text.charCodeAt(i);
    if (c !== 63 && c !== t.charCodeAt(at + i)) return false;
  }
  return true;
}

/**
 * The end of the leftmost occurrence of `seg` in `t[from..to)`, or -1. Star-free, `?`-free
 * segments use the native search; the others run bit-parallel Shift-And, one pass over the text.
 */
function findEnd(seg: Segment, t: string, from: number, to: number): number {
  const m = seg.text.length;
  if (!seg.wild) {
    const i = t.indexOf(seg.text, from);
    return i === -1 || i + m > to ? -1 : i + m;
  }
  const any = seg.any!;
  const words = any.length;
  const state = new Uint32Array(words);
  const lastWord = (m - 1) >>> 5;
  const lastBit = 1 << ((m - 1) & 31);
  for (let i = from; i < to; i++) {
    const mask = seg.masks!.get(t.charCodeAt(i)) ?? any;
    let carry = 1; // a match may start at every position
    for (let w = 0; w < words; w++) {
      const v = state[w]!;
      state[w] = ((v << 1) | carry) & mask[w]!;
      carry = v >>> 31;
    }
    if (state[lastWord]! & lastBit) return i + 1;
  }
  return -1;
}

/** Compiles one lower-cased glob into a matcher that reads the text at most once. */
export function compileGlob(p: string): Matcher {
  const parts = p.split("*");
  if (parts.length === 1) {
    const only = segment(p);
    return (t) => t.length === p.length && matchesAt(only, t, 0);
  }
  const head = segment(parts[0]!);
  const tail = segment(parts[parts.length - 1]!);
  const middle = parts
    .slice(1, -1)
    .filter((s) => s !== "")
    .map(segment);
  const fixed = head.text.length + tail.text.length;
  return (t) => {
    if (t.length < fixed || !matchesAt(head, t, 0) || !matchesAt(tail, t, t.length - tail.text.length))
      return false;
    // Middle segments must fit, in order, between the head and the tail.
    let at = head.text.length;
    const limit = t.length - tail.text.length;
    for (const seg of middle) {
      const end = findEnd(seg, t, at, limit);
      if (end === -1) return false;
      at = end;
    }
    return true;
  };
}
