// Text that makes backtracking regexes and naive walkers blow up (issue #12): the processor scrubs
// and the edge filters every string a key holder sends, so each of these must cost time linear in
// its length. Used small inside generated payloads, and big (~64 KB) in the dedicated cases.
import fc from "fast-check";

/** One pathological string shape, by repeat count. */
export type TextShape = (n: number) => string;

/** The shapes by name, each aimed at a rule in shared/policy (scrubbing, filters, globs). */
export const TEXT_SHAPES: Record<string, TextShape> = {
  // URL credentials with an optional scheme prefix: every "a." may start a scheme.
  "url-scheme-dots": (n) => `${"a.".repeat(n)}=@`,
  "url-slashes": (n) => `${"a://".repeat(n)}:@`,
  "url-colons": (n) => `//${"a:".repeat(n)}`,
  // A PEM BEGIN without END: a lazy scan to the end of the text from every BEGIN.
  "pem-begin-only": (n) => "-----BEGIN PRIVATE KEY-----\n".repeat(Math.max(1, Math.floor(n / 14))),
  "pem-one-begin": (n) => `-----BEGIN RSA PRIVATE KEY-----\n${"MIIEvQIBADANBg".repeat(Math.ceil(n / 7))}`,
  // Card numbers: long runs of digits and separators.
  digits: (n) => "1".repeat(2 * n),
  "digits-spaced": (n) => "1 ".repeat(n),
  "digits-dashed": (n) => "4-".repeat(n),
  "digits-mixed": (n) => "1 2-3 4-".repeat(Math.ceil(n / 4)),
  // key=value pairs and credentials.
  pairs: (n) => "a=".repeat(n),
  "pairs-amp": (n) => "&a=b".repeat(Math.ceil(n / 2)),
  equals: (n) => "=".repeat(2 * n),
  bearer: (n) => "bearer ".repeat(Math.ceil(n / 3)),
  basic: (n) => `basic ${"A".repeat(2 * n)}!`,
  emails: (n) => "a@".repeat(n),
  // Glob filters ("*a*a*b"): many near matches that fail at the very end.
  "glob-near-miss": (n) => `${"a".repeat(2 * n)}c`,
  spaces: (n) => " \t".repeat(n),
};

/** A hostile string of one shape, of about `2 * n` characters. */
export function hostileString(maxRepeat: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...Object.values(TEXT_SHAPES)), fc.integer({ min: 1, max: maxRepeat }))
    .map(([shape, n]) => shape(n));
}

/** An object with `n` keys (walkers that copy or sort keys per level). */
export const manyKeys = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

/** `depth` nested arrays around one value (recursive walkers). */
export function deepValue(depth: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Hostile values to put anywhere in a payload: regex-hostile strings, many keys, deep nesting. */
export function hostileValue(maxRepeat: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: hostileString(maxRepeat) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1_000 }).map(manyKeys) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 500 }).map((d) => deepValue(d)) },
  );
}
