// Keyset pagination for the console's newest-first lists: an opaque cursor holding the last row's
// (time, id), the "older than the cursor" condition, and the page cut with its next cursor.

import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

export interface Cursor {
  time: number;
  id: string;
}

/** Cursors are opaque: base64 of "<time>:<id>". */
export const encodeCursor = (c: Cursor) => btoa(`${c.time}:${c.id}`);

/** The cursor, or null when it is absent; `undefined` when it is present but malformed (a 400). */
export function decodeCursor(cursor: string | undefined): Cursor | null | undefined {
  if (!cursor) return null;
  try {
    const [time, id] = atob(cursor).split(":");
    if (!time || !id || !Number.isFinite(Number(time))) return undefined;
    return { time: Number(time), id };
  } catch {
    return undefined;
  }
}

/** Rows strictly after the cursor in (time DESC, id DESC) order. */
export function olderThan(cursor: Cursor | null, time: SQLiteColumn, id: SQLiteColumn): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(time, cursor.time), and(eq(time, cursor.time), lt(id, cursor.id)));
}

/** Cuts `limit + 1` fetched rows to a page and the cursor of the next one. */
export function pageOf<T>(
  rows: T[],
  limit: number,
  key: (row: T) => Cursor,
): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? encodeCursor(key(last)) : null };
}
