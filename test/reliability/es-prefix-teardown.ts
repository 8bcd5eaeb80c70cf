// After the Elasticsearch run of the fault suite: deletes the indices and template of its own index
// prefix (by name: clusters refuse wildcard deletes), so repeated local runs leave nothing behind.
export default function setup() {
  return async function teardown() {
    const url = (process.env.SLUICE_TEST_ES_URL ?? "").replace(/\/+$/, "");
    const prefix = process.env.SLUICE_FAULTS_ES_PREFIX;
    if (!url || !prefix) return;
    const res = await fetch(`${url}/_cat/indices/${prefix}-*?format=json&h=index`);
    const indices = res.ok ? ((await res.json()) as Array<{ index: string }>) : [];
    for (const { index } of indices) await fetch(`${url}/${index}`, { method: "DELETE" });
    await fetch(`${url}/_index_template/${prefix}`, { method: "DELETE" });
  };
}
