// Translates a parsed search (query.ts AST + backend.ts bounds) into the WHERE clause of the D1 FTS5
// backend. User text only ever reaches SQL as bound parameters, and FTS5 MATCH strings are built from
// tokens (letters and digits only, see text.ts) wrapped in double quotes, so no input can form FTS5
// syntax (NEAR, *, -, :, column filters) or break the statement.

import { paramTerms, type SearchBounds, type SearchParams } from "./backend";
import type { QueryField, SearchQuery, TextTerm } from "./query";

const COLUMNS: Record<QueryField, string> = {
  type: "d.type",
  level: "d.level",
  release: "d.release",
  environment: "d.environment",
  user: 'd."user"',
  groupId: "d.group_id",
  fingerprint: "d.fingerprint",
  platform: "d.platform",
  category: "d.category",
};

export interface SqlWhere {
  sql: string;
  params: unknown[];
}

/** The filter every statement of one search shares (project, query terms, params, time range). */
export function whereClause(
  projectId: string,
  query: SearchQuery,
  params: SearchParams,
  bounds: SearchBounds,
) {
  const parts = ["d.project_id = ?"];
  const values: unknown[] = [projectId];
  const terms = [...query.terms, ...paramTerms(params)];

  const positives = terms.filter((t): t is TextTerm => t.kind === "text" && !t.negated);
  if (positives.length > 0) {
    parts.push("d.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)");
    values.push(positives.map(ftsPhrase).join(" AND "));
  }
  const negatives = terms.filter((t): t is TextTerm => t.kind === "text" && t.negated);
  if (negatives.length > 0) {
    parts.push("d.rowid NOT IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)");
    values.push(negatives.map(ftsPhrase).join(" OR "));
  }
  for (const t of terms) {
    if (t.kind === "field") {
      // IS NOT: a negated term keeps docs where the field is absent, like ES's must_not.
      parts.push(`${COLUMNS[t.field]} ${t.negated ? "IS NOT" : "="} ?`);
      values.push(t.value);
    } else if (t.kind === "tag") {
      parts.push(
        `${t.negated ? "NOT " : ""}EXISTS (SELECT 1 FROM json_each(d.tags) AS t WHERE t.key = ? AND t.value = ?)`,
      );
      values.push(t.key, t.value);
    }
  }
  if (bounds.from !== null) {
    parts.push("d.occurred_at >= ?");
    values.push(bounds.from);
  }
  if (bounds.to !== null) {
    parts.push("d.occurred_at < ?");
    values.push(bounds.to);
  }
  return { sql: parts.join(" AND "), params: values } satisfies SqlWhere;
}

/**
 * Tokens are [\p{L}\p{N}]+ only, so quoting them is a complete escape. A term whose text was cut
 * differently before (Chinese and Japanese runs, text.ts) also matches that cut: documents indexed
 * before keep their tokens.
 */
function ftsPhrase(t: TextTerm): string {
  const phrase = `"${t.tokens.join(" ")}"`;
  return t.legacy ? `(${phrase} OR "${t.legacy.join(" ")}")` : phrase;
}
