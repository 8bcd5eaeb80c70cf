// Makes sure Elasticsearch holds Sluice's explicit mapping before anything is indexed. Without the
// index template, the first `_bulk` auto-creates `<prefix>-YYYY.MM` with dynamic mappings (eventId
// as text), and every search then fails. The indexer runs this once per isolate before indexing,
// and `npm start` / `npm run search:setup` run it before serving; it installs the template and
// missing fields idempotently, and refuses (SearchSchemaError, saying what to run) when an existing
// index has a mapping it cannot fix in place.

import { indexTemplate } from "./es-template";
import template from "./es-template.json";

/** Bumped in es-template.json whenever the mapping changes, so older templates are replaced. */
export const TEMPLATE_VERSION: number = template.version;

type Json = Record<string, unknown>;
/** One Elasticsearch REST call; never throws (a network failure is status 0). */
export type EsRequest = (
  method: string,
  path: string,
  body?: string,
) => Promise<{ ok: boolean; status: number; json: unknown; text: string }>;

export class SearchSchemaError extends Error {
  override name = "SearchSchemaError";
}

export interface SchemaReport {
  /** The template was missing or older, and was (re)installed. */
  templateInstalled: boolean;
  /** Existing indices that received the template's missing fields. */
  indicesUpdated: string[];
}

const FIX = "run `npm run search:setup` with the same ELASTICSEARCH_* settings";

/**
 * @example
 * await ensureSearchSchema(request, "sluice-events"); // before the first _bulk of an isolate
 */
export async function ensureSearchSchema(request: EsRequest, prefix: string): Promise<SchemaReport> {
  const report: SchemaReport = { templateInstalled: false, indicesUpdated: [] };
  const got = await request("GET", `/_index_template/${encodeURIComponent(prefix)}`);
  if (!got.ok && got.status !== 404) throw unreachable("read the index template", got);
  const installed = (got.json as { index_templates?: Array<{ index_template?: Json }> } | null)
    ?.index_templates?.[0]?.index_template;
  if (!installed || Number(installed.version ?? 0) < TEMPLATE_VERSION) {
    // Keep an operator's replica count (search:setup sets it); a fresh install gets 0 (one node).
    const settings = (installed?.template as { settings?: { index?: Json } } | undefined)?.settings;
    const replicas = Number(settings?.index?.number_of_replicas ?? 0);
    const put = await request(
      "PUT",
      `/_index_template/${encodeURIComponent(prefix)}`,
      JSON.stringify(indexTemplate(prefix, Number.isFinite(replicas) ? replicas : 0)),
    );
    if (!put.ok) throw unreachable("install the index template", put);
    report.templateInstalled = true;
  }

  // Indices created before (or without) the template: add missing fields, refuse conflicts.
  const mappings = await request(
    "GET",
    `/${prefix}-*/_mapping?allow_no_indices=true&ignore_unavailable=true`,
  );
  if (!mappings.ok) throw unreachable("read index mappings", mappings);
  const wanted = template.template.mappings.properties as Record<string, Json>;
  for (const [index, value] of Object.entries((mappings.json ?? {}) as Record<string, { mappings?: Json }>)) {
    const m = value.mappings ?? {};
    const have = (m.properties ?? {}) as Record<string, Json>;
    const missing: Record<string, Json> = {};
    for (const [field, spec] of Object.entries(wanted)) {
      const actual = have[field];
      if (!actual) missing[field] = spec;
      else if (actual.type !== spec.type)
        throw new SearchSchemaError(
          `Elasticsearch index ${index} was created without Sluice's mapping (field ${field} is ` +
            `${String(actual.type ?? "an object")}, expected ${String(spec.type)}). Delete or reindex it, ` +
            `then ${FIX}.`,
        );
    }
    if (m.dynamic !== "strict")
      throw new SearchSchemaError(
        `Elasticsearch index ${index} has dynamic mappings, not Sluice's strict mapping. Delete or ` +
          `reindex it, then ${FIX}.`,
      );
    if (Object.keys(missing).length === 0) continue;
    const put = await request("PUT", `/${index}/_mapping`, JSON.stringify({ properties: missing }));
    if (!put.ok) throw unreachable(`add fields to ${index}`, put);
    report.indicesUpdated.push(index);
  }
  return report;
}

function unreachable(what: string, res: { status: number; text: string }): Error {
  return new SearchSchemaError(
    `could not ${what} in Elasticsearch (${res.status} ${res.text.slice(0, 300)}); check ` +
      `ELASTICSEARCH_URL and its credentials, then ${FIX}`,
  );
}
