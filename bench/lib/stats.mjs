// The order statistics every bench section reports (one definition, so "median" means the same
// figure in each): the p-th percentile as the element at floor(p% × n) of the sorted values.

export function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The upper median for an even count (the element at n / 2), never an average of two. */
export const median = (xs) => pct(xs, 50);
