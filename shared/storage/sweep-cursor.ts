// Where a sweep that walks R2 keys (or segment rows) a page at a time resumes: one sweep_cursors
// row per sweep, read when a run starts and written when it stops, so each run does a bounded
// amount of work and the next goes on from there. Shared by the orphan, chunk and retention sweeps.

/** The key the sweep named `name` stopped after ("" or missing: from the start). */
export async function loadCursor(db: D1Database, name: string): Promise<string> {
  const row = await db
    .prepare("SELECT after FROM sweep_cursors WHERE prefix = ?")
    .bind(name)
    .first<{ after: string }>();
  return row?.after ?? "";
}

/** The statement recording where the sweep named `name` stopped ("": it reached the end). */
export function cursorUpsert(db: D1Database, name: string, after: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO sweep_cursors (prefix, after, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (prefix) DO UPDATE SET after = excluded.after, updated_at = excluded.updated_at`,
    )
    .bind(name, after, now);
}

/**
 * Walks the R2 keys under `prefix` a page at a time from where the previous run stopped, at most
 * `maxKeys` keys, handing each page to `onPage`; records where it stopped ("" once it reached the
 * end, so the next run starts over). The sweeps whose keys are in no time order (claims,
 * attachments, source-map chunks and artifacts) walk this way: a window always starting at the
 * beginning would never reach what lies past it.
 */
export async function walkPrefix(
  env: { DB: D1Database; BLOBS: R2Bucket },
  prefix: string,
  { maxKeys, now, include }: { maxKeys: number; now: number; include?: "customMetadata"[] },
  onPage: (objects: R2Object[]) => Promise<void>,
): Promise<void> {
  let after = (await loadCursor(env.DB, prefix)) || undefined;
  let done = false;
  for (let listed = 0; listed < maxKeys; ) {
    const limit = Math.min(1000, maxKeys - listed);
    // (`include` postdates the root workers-types: without it R2 lists no custom metadata.)
    const options = { prefix, startAfter: after, limit, ...(include ? { include } : {}) } as R2ListOptions;
    const page = await env.BLOBS.list(options);
    listed += page.objects.length;
    await onPage(page.objects);
    after = page.objects.at(-1)?.key ?? after;
    if (!page.truncated) {
      done = true;
      break;
    }
  }
  await cursorUpsert(env.DB, prefix, done ? "" : (after ?? ""), now).run();
}
