// "Resolve in next release": a group resolved in release R reopens only on an event of a later
// release. Releases are ordered by a text key the processor compares in SQL: every run of digits
// is zero-padded, so "app@1.10.0" sorts after "app@1.9.2". Releases that are not versions (commit
// hashes) compare as plain text, and a pre-release ("1.0.0-rc1") sorts after its release: Sluice
// has no release registry that would say which came first.

const DIGITS = 12;

/**
 * @example releaseKey("shop@1.10.0") > releaseKey("shop@1.9.2") // true
 */
export function releaseKey(release: string): string {
  return release.replace(/\d+/g, (run) => {
    const trimmed = run.replace(/^0+(?=\d)/, "");
    // A run longer than the padding keeps its order by length first (more digits = larger).
    return trimmed.length <= DIGITS ? trimmed.padStart(DIGITS, "0") : `${"9".repeat(DIGITS)}${trimmed}`;
  });
}

/** Whether `release` comes after `resolvedIn` (an event without a release never does). */
export function isLaterRelease(release: string | null | undefined, resolvedIn: string): boolean {
  return !!release && releaseKey(release) > releaseKey(resolvedIn);
}
