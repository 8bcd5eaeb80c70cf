// The processor's side of symbolication: finds an event's maps through the artifact store with
// per-isolate caches (parsed maps by bytes, look-ups for a few seconds), and records the result on
// the item so the stored event carries its mapped frames. Symbolication never fails an event: a
// store that cannot be reached, or a slow one, leaves frames as they came with the reason recorded;
// a map too large to decode leaves them unmapped with that reason (and is not fetched again).

import type { CanonicalEvent } from "../event";
import { MapCache, type ParsedMap, TtlCache } from "./map-cache";
import { type ArtifactEnv, type FileRow, hasArtifacts, mapByDebugId, mapByUrl } from "./store";
import {
  debugIdsOf,
  isJsFrame,
  type MapResolver,
  symbolicateEvent,
  type UnmappedReason,
} from "./symbolicate";

/** Found look-ups are kept this long; "nothing uploaded" a shorter time, so new uploads apply soon. */
const FOUND_TTL_MS = 60_000;
const MISSING_TTL_MS = 5_000;
/** Wall-clock budget of one event's symbolication (fetches included). */
export const SYMBOLICATION_BUDGET_MS = 1_000;

const maps = new MapCache();
const lookups = new TtlCache<FileRow | null>();
const projects = new TtlCache<boolean>(1_000);

/** The isolate's parsed-map cache (tests and the benchmark read its counters). */
export const mapCache = maps;

type Failure = { reason: UnmappedReason; detail: string };

async function cached<T>(cache: TtlCache<T>, key: string, load: () => Promise<T>, ttl: (v: T) => number) {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = await load();
  cache.set(key, value, ttl(value));
  return value;
}

const rowTtl = (r: FileRow | null) => (r ? FOUND_TTL_MS : MISSING_TTL_MS);

/** Distinct files one event may look up: a key holder's 250-frame stack of made-up URLs costs 25. */
export const MAX_FILES_PER_EVENT = 25;

/**
 * Debug ids of the payload. A digit-heavy debug id can look like a card number to the scrubber, so
 * a scrubbed payload's ids are read from the payload as received (used for the look-up only).
 */
function debugIdsOfEvent(payload: unknown, unscrubbed?: () => unknown): Map<string, string> {
  const hasImages = (payload as { debug_meta?: unknown } | null)?.debug_meta !== undefined;
  if (unscrubbed && hasImages) {
    try {
      return debugIdsOf(unscrubbed());
    } catch {
      /* fall back to the scrubbed payload */
    }
  }
  return debugIdsOf(payload);
}

/** A resolver for one event of `projectId`, in `release`/`dist`. */
export function storeResolver(
  env: ArtifactEnv,
  projectId: number,
  release: string,
  dist: string,
): MapResolver {
  const seen = new Set<string>();
  return {
    async resolve({ url, debugId }): Promise<ParsedMap | Failure> {
      const file = `${debugId ?? ""}|${url ?? ""}`;
      if (!seen.has(file)) {
        if (seen.size >= MAX_FILES_PER_EVENT)
          return {
            reason: "no_map",
            detail: `not looked up: the event names more than ${MAX_FILES_PER_EVENT} files`,
          };
        seen.add(file);
      }
      let row: FileRow | null = null;
      if (debugId)
        row = await cached(
          lookups,
          `${projectId}|d|${debugId}`,
          () => mapByDebugId(env.DB, projectId, debugId),
          rowTtl,
        );
      if (!row && url)
        row = await cached(
          lookups,
          `${projectId}|u|${release}|${dist}|${url}`,
          () => mapByUrl(env.DB, projectId, url, release, dist),
          rowTtl,
        );
      if (!row) {
        const what = debugId ? `debug id ${debugId}` : release ? `release ${release}` : "no release";
        return { reason: "no_map", detail: `no source map uploaded for ${url ?? "this frame"} (${what})` };
      }
      const key = row.blobKey;
      const load = await maps.get(key, async () => {
        const obj = await env.BLOBS.get(key);
        if (!obj) return null;
        // A map too large to parse is refused on its stored size, without reading it into memory.
        if (obj.size * 2 > maps.maxCost) {
          await obj.body.cancel().catch(() => {});
          return { size: obj.size };
        }
        return obj.text();
      });
      if ("error" in load) return { reason: "bad_map", detail: `${row.url}: ${load.error}` };
      return load;
    },
  };
}

/**
 * Symbolicates an event's JavaScript frames in place and keeps the record on `meta`, where the
 * stored record header carries it to the console. Returns whether any frame was looked at.
 */
export async function symbolicateStored(
  env: ArtifactEnv,
  event: CanonicalEvent,
  payload: unknown,
  meta: Record<string, unknown>,
  /** The payload before PII scrubbing, when scrubbing changed it (debug ids are no PII). */
  unscrubbed?: () => unknown,
): Promise<boolean> {
  if (!event.exceptions.some((e) => e.frames.some((f) => isJsFrame(f, event.platform)))) return false;
  const projectId = Number(event.projectId);
  try {
    const has = await cached(
      projects,
      String(projectId),
      () => hasArtifacts(env.DB, projectId),
      (v) => (v ? FOUND_TTL_MS : MISSING_TTL_MS),
    );
    if (!has) return false;
  } catch (err) {
    console.warn(JSON.stringify({ msg: "artifact store unavailable", error: String(err) }));
    return false;
  }
  // Work on a copy: a run cut short by the budget must not leave the event half rewritten.
  const copy: CanonicalEvent = {
    ...event,
    exceptions: event.exceptions.map((e) => ({ ...e, frames: [...e.frames] })),
  };
  const resolver = storeResolver(env, projectId, event.release ?? "", event.tags.dist ?? "");
  // Two guards: the timer ends a run stuck waiting on the store, and the deadline, checked between
  // frames, ends one that keeps working. Inside workerd the clock only moves across I/O, so a run
  // on cached maps (all microtasks) sees neither: that work is bounded by its structure instead
  // (files per event here, source characters read for names per event in symbolicate.ts).
  const deadline = Date.now() + SYMBOLICATION_BUDGET_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    symbolicateEvent(copy, debugIdsOfEvent(payload, unscrubbed), resolver, { deadline }).catch(
      (err: unknown) => err as Error,
    ),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), SYMBOLICATION_BUDGET_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  if (result === "timeout" || result instanceof Error) {
    console.warn(
      JSON.stringify({ msg: "symbolication skipped", eventId: event.eventId, error: String(result) }),
    );
    return false;
  }
  if (!result) return false;
  event.exceptions = copy.exceptions;
  meta.symbolication = result;
  return true;
}
