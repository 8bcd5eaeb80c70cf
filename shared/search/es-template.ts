// The index template body for `<prefix>-*` (es-template.json), shared by the setup script's logic,
// the Elasticsearch tests and the benchmark so they all index into the same explicit mapping.

import template from "./es-template.json";

/**
 * @example
 * await fetch(`${url}/_index_template/${prefix}`, { method: "PUT", body: JSON.stringify(indexTemplate(prefix)) });
 */
export function indexTemplate(prefix: string, replicas = 0) {
  const { _comment, ...body } = template;
  const settings = { index: { ...body.template.settings.index, number_of_replicas: replicas } };
  return {
    ...body,
    index_patterns: [`${prefix}-*`],
    // Above ES's built-in templates (priority 100 and below for logs-*, metrics-* ...).
    priority: 200,
    template: { ...body.template, settings },
    _meta: { managed_by: "sluice", description: _comment },
  };
}
