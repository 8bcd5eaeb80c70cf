// Where dead letters D1 refused are kept: R2 objects `dead-letters/<id>.json` holding the whole
// record, their listing facts in custom metadata. The processor writes and sweeps them; the console
// lists and replays them. Both use this module (the workers never import each other).

export const DEAD_LETTER_PREFIX = "dead-letters/";

/** The R2 fallback object of a dead letter. */
export const deadLetterKey = (id: string) => `${DEAD_LETTER_PREFIX}${id}.json`;

/** `include` postdates the root workers-types; without it R2 lists no custom metadata. */
type ListWithMetadata = R2ListOptions & { include: "customMetadata"[] };

/** One page of R2-fallback dead letters, with the custom metadata that describes each. */
export function listFallback(blobs: R2Bucket, cursor: string | undefined): Promise<R2Objects> {
  const options: ListWithMetadata = { prefix: DEAD_LETTER_PREFIX, cursor, include: ["customMetadata"] };
  return blobs.list(options);
}

/** The JSON body of an R2-fallback object (the processor's whole dead-letter record). */
export interface FallbackRecord {
  id: string;
  queue: string;
  reason: string;
  body: string;
  attempts: number;
  createdAt: number;
  projectId: number | null;
  blobs?: string[];
}

/** An R2-fallback dead letter as its custom metadata describes it (no GET needed). */
export interface FallbackEntry {
  key: string;
  id: string;
  queue: string;
  reason: string;
  attempts: number;
  createdAt: number;
  projectId: number | null;
  size: number;
}

/** R2-fallback dead letters (at most `max`), described by their custom metadata, newest first. */
export async function listFallbackEntries(blobs: R2Bucket, max: number): Promise<FallbackEntry[]> {
  const out: FallbackEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await listFallback(blobs, cursor);
    for (const o of page.objects) {
      const m = o.customMetadata ?? {};
      out.push({
        key: o.key,
        id: m.id || o.key.slice(o.key.lastIndexOf("/") + 1).replace(/\.json$/, ""),
        queue: m.queue || "unknown",
        reason: m.reason || "exhausted retries",
        attempts: Number(m.attempts) || 0,
        createdAt: Number(m.createdAt) || o.uploaded.getTime(),
        projectId: m.projectId ? Number(m.projectId) : null,
        size: o.size,
      });
    }
    cursor = page.truncated && out.length < max ? page.cursor : undefined;
  } while (cursor);
  return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, max);
}
