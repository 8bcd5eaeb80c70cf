// The orphan sweep against more R2-fallback dead letters than it reads in a run (after a long D1
// outage), inside workerd against real local R2: it lists a bounded number of them, and when it
// cannot read them all it leaves claim checks and attachments (which such a letter may refer to)
// for a later run instead of listing every letter on every run; once the letters fit, it sweeps.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_PREFIX } from "../../shared/storage/dead-letter-store";
import { fallbackRefs, sweepOrphans } from "./orphan-sweep";

const DAY = 86_400_000;

describe("orphan sweep with many R2-fallback dead letters", () => {
  it("reads at most its pages of them, and sweeps claims only once it could read them all", async () => {
    const letters = Array.from(
      { length: 1001 },
      (_, i) => `${DEAD_LETTER_PREFIX}many-${String(i).padStart(4, "0")}.json`,
    );
    for (let i = 0; i < letters.length; i += 50)
      await Promise.all(
        letters.slice(i, i + 50).map((k) => env.BLOBS.put(k, "{}", { customMetadata: { blobs: "[]" } })),
      );
    const orphan = `claims/4242/orphan-${crypto.randomUUID()}`;
    await env.BLOBS.put(orphan, '{"m":"x"}');
    const later = Date.now() + 5 * DAY;

    // One page (at most 1,000 keys; fewer with their metadata) is not all of them: nothing known,
    // and no claim deleted.
    expect(await fallbackRefs(env, 1)).toBeNull();
    await sweepOrphans(env, later, 1);
    expect(await env.BLOBS.head(orphan)).not.toBeNull();

    // Enough pages are: the unreferenced claim goes.
    expect(await fallbackRefs(env, 50)).toEqual(new Set());
    await sweepOrphans(env, later, 50);
    expect(await env.BLOBS.head(orphan)).toBeNull();

    for (let i = 0; i < letters.length; i += 1000) await env.BLOBS.delete(letters.slice(i, i + 1000));
  });
});
