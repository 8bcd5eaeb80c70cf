// Splits rows into JSON array strings of bounded size: D1 caps a bound string at 2 MB
// (SQLITE_TOOBIG above it), and a queue batch can hold tens of thousands of tiny items.

/** JSON arrays of `rows`, each at most ~`maxChars` characters (a single larger row stands alone). */
export function jsonChunks(rows: readonly unknown[], maxChars = 500_000): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const row of rows) {
    const s = JSON.stringify(row);
    if (parts.length > 0 && size + s.length + 1 > maxChars) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      size = 2;
    }
    parts.push(s);
    size += s.length + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(",")}]`);
  return chunks;
}
