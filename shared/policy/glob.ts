// Glob patterns for the release and error-message filters: `*` any run of characters, `?` exactly
// one, case-insensitive. Compiled once per settings object; matching is linear-ish and never uses
// a backtracking regex, so a long message cannot make a user-written pattern blow up (no ReDoS).

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
    if (p) matchers.push(compileOne(p.toLowerCase()));
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

/** Picks a specialised matcher for the common shapes; falls back to the general wildcard matcher. */
function compileOne(p: string): Matcher {
  if (!p.includes("?")) {
    const star = p.indexOf("*");
    if (star === -1) return (t) => t === p;
    if (/^\*+$/.test(p)) return () => true;
    const inner = p.replace(/^\*+|\*+$/g, "");
    if (!inner.includes("*")) {
      const lead = p.startsWith("*");
      const trail = p.endsWith("*");
      if (lead && trail) return (t) => t.includes(inner);
      if (lead) return (t) => t.endsWith(inner);
      if (trail) return (t) => t.startsWith(inner);
    }
  }
  return (t) => wildcardMatch(p, t);
}

/**
 * Classic greedy wildcard match with single-star backtracking: O(|p|·|t|) worst case, usually
 * linear. Works on UTF-16 code units (`?` = one unit), like JS string indexing.
 */
export function wildcardMatch(p: string, t: string): boolean {
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    const pc = p.charCodeAt(pi);
    if (pi < p.length && (pc === 63 /* ? */ || pc === t.charCodeAt(ti))) {
      pi++;
      ti++;
    } else if (pi < p.length && pc === 42 /* * */) {
      starP = pi++;
      starT = ti;
    } else if (starP !== -1) {
      pi = starP + 1;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (pi < p.length && p.charCodeAt(pi) === 42) pi++;
  return pi === p.length;
}
