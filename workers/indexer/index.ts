// Indexer worker: consumes sluice-index (IndexBatch bodies from the processor) and writes search
// documents (the event index) to Elasticsearch, or to the D1 FTS5 fallback when ELASTICSEARCH_URL is
// not set. Before its first Elasticsearch write per isolate, the backend installs the index template
// if missing and refuses indices with dynamic mappings (shared/search/es-schema.ts): docs then wait.
import { createSearchBackend } from "../../shared/search/index";
import { deadLetterSender } from "./dead-letter";
import { handleIndexBatch } from "./handle-index-batch";

export default {
  async queue(batch, env, _ctx) {
    await handleIndexBatch(batch, { backend: createSearchBackend(env), deadLetter: deadLetterSender(env) });
  },
} satisfies ExportedHandler<IndexerEnv>;
