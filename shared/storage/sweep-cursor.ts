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
