// Test support for the "every step that reads payload text is linear" rule: a corpus of input
// shapes known to make backtracking patterns (and naive scans) blow up, and a growth check that
// stays robust on a noisy shared machine (minimum of several runs, 1× against 10×).

/** Pathological shapes by name; `unit(n)` builds about n repetitions of the hostile motif. */
export const PATHOLOGICAL: Record<string, (n: number) => string> = {
  "url-auth scheme run": (n) => `${"a.".repeat(n)}=@`,
  "url-auth colons": (n) => `//${":".repeat(2 * n)} @`,
  "url-auth slashes": (n) => `${"//a:".repeat(n)}`,
  "url-auth at-signs": (n) => `${"a@".repeat(n)}=`,
  "pem begin without end": (n) => "-----BEGIN RSA PRIVATE KEY-----\n".repeat(Math.ceil(n / 16)),
  "pem bad labels": (n) => `-----BEGIN PRIVATE KEY-----${"-----END x ".repeat(Math.ceil(n / 5))}`,
  "bearer whitespace": (n) => `${"bearer ".repeat(Math.ceil(n / 4))}${" ".repeat(n)}x`,
  "basic padding": (n) => `basic ${"a".repeat(2 * n)}===`,
  "card separators": (n) => `${"1 ".repeat(n)}x`,
  "card dashes": (n) => "1234-5678-9012-".repeat(Math.ceil(n / 8)),
  "pairs without values": (n) => `?${"password=&".repeat(Math.ceil(n / 5))}`,
  "keys without separators": (n) => `${"a".repeat(2 * n)}=`,
  "sensitive words": (n) => "token".repeat(Math.ceil(n / 2)),
  "safari versions": (n) => "Version/1".repeat(Math.ceil(n / 4)),
  "mobile safari": (n) => `Version/1 Mobile/${"Version/1".repeat(Math.ceil(n / 4))}`,
  "opera presto": (n) => `Opera/9${"Version/".repeat(Math.ceil(n / 4))}`,
  "crawler words": (n) => "bot".repeat(Math.ceil(n / 2)),
  "extension words": (n) => "top.GLOBAL".repeat(Math.ceil(n / 5)),
  "localhost url": (n) => `http${"a".repeat(2 * n)}`,
  "hex and email runs": (n) => `${"a.".repeat(n)}@`,
  "json in strings": (n) => `[${'"[1]",'.repeat(Math.ceil(n / 3))}"x"]`,
};

/** Globs a project could save that defeat backtracking matchers. */
export const HOSTILE_GLOBS = ["*a*a*a*a*a*b", "*a?a?a?*a??b*", "a*", "*?*?*?*?*c", `*${"?".repeat(40)}z*`];

export interface Growth {
  small: number;
  large: number;
  ratio: number;
}

async function timeOf(run: () => unknown, reps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await run();
  return performance.now() - t0;
}

/**
 * Times `step` on the 1× and 10× input. Both run a few times first (JIT warm-up, flattening of
 * concatenated strings). Keep the 10× input under ~100 KB: V8 puts larger strings in its
 * large-object space, where copying them (lower-casing, stringifying) costs more per byte.
 * The 1× input then runs 10·r times and the 10× input r times, so both loops read and allocate
 * as many bytes and garbage collection weighs alike; r doubles until the 10× loop takes ≥ 30 ms
 * (the clock is coarse inside workerd). Rounds alternate the two loops and keep each one's
 * minimum (other processes only ever add time); after three rounds they stop as soon as the
 * ratio is within `limit`, else after twenty. A linear step passes on a busy machine; a
 * quadratic one (100× the time at 10× the input) cannot.
 */
export async function measureGrowth<T>(
  step: (input: T) => unknown,
  small: T,
  large: T,
  limit = 15,
): Promise<Growth> {
  for (let i = 0; i < 3; i++) {
    await step(small);
    await step(large);
  }
  const smallTime = async (reps: number) => (await timeOf(() => step(small), 10 * reps)) / 10;
  let reps = 1;
  const largeTime = async (reps: number) => await timeOf(() => step(large), reps);
  // Calibrated on the 10× loop (≥ 30 ms, best of two), the one that resolves the ratio.
  while (reps < 1024 && Math.min(await largeTime(reps), await largeTime(reps)) < 30) reps *= 2;
  let t1 = Number.POSITIVE_INFINITY;
  let t10 = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 20 && (round < 3 || t10 > limit * t1); round++) {
    t1 = Math.min(t1, await smallTime(reps));
    t10 = Math.min(t10, await largeTime(reps));
  }
  return { small: t1, large: t10, ratio: t10 / t1 };
}
