import { describe, expect, it } from "vitest";
import { corpusDoc } from "./conformance";
import { type IndexableDoc, prepareDoc } from "./doc";
import { bulkChunks, indexName, itemResult, readBulkResponse } from "./es-bulk";

const prepared = (n: number) => prepareDoc(corpusDoc(n)) as IndexableDoc;

describe("es bulk", () => {
  it("names monthly indices by occurredAt in UTC", () => {
    expect(indexName("p", Date.UTC(2024, 0, 31, 23, 59))).toBe("p-2024.01");
    expect(indexName("p", Date.UTC(2024, 11, 1))).toBe("p-2024.12");
  });

  it("splits requests by document count and by bytes; an oversized doc is reported", () => {
    const docs = [1, 2, 3, 4, 5].map((n, position) => ({ position, doc: prepared(n) }));
    expect(bulkChunks("p", docs, { maxBytes: 1e6, maxDocs: 2 }).chunks.map((c) => c.positions)).toEqual([
      [0, 1],
      [2, 3],
      [4],
    ]);
    const oneDoc = bulkChunks("p", docs.slice(0, 1)).chunks[0]!.body.length;
    const bySize = bulkChunks("p", docs, { maxBytes: oneDoc * 2 + 10, maxDocs: 100 });
    expect(bySize.chunks.every((c) => c.body.length <= oneDoc * 2 + 10)).toBe(true);
    const huge = { position: 9, doc: { ...prepared(1), message: "x".repeat(2000) } };
    expect(bulkChunks("p", [huge], { maxBytes: 1000, maxDocs: 10 }).tooLarge).toEqual([9]);
    const [action, source] = bulkChunks("p", docs.slice(0, 1)).chunks[0]!.body.split("\n");
    expect(JSON.parse(action!)).toEqual({ create: { _index: "p-2024.01", _id: "p1:ev01" } });
    expect(JSON.parse(source!).occurredAt).toBe(corpusDoc(1).occurredAt);
  });

  it("classifies item statuses", () => {
    expect([201, 200, 409, 429, 500, 503, 403, 404].map((status) => itemResult({ status }))).toEqual([
      "ok",
      "ok",
      "ok",
      "retry",
      "retry",
      "retry",
      "retry",
      "retry",
    ]);
    expect(itemResult({ status: 400, error: { type: "document_parsing_exception", reason: "bad" } })).toEqual(
      {
        dead: "elasticsearch rejected the document: document_parsing_exception: bad",
      },
    );
  });

  it("retries everything when the response cannot be read", () => {
    expect(readBulkResponse({ errors: false, items: [{}, {}] }, 2)).toEqual(["ok", "ok"]);
    expect(readBulkResponse({ items: [{}] }, 2)).toEqual(["retry", "retry"]);
    expect(readBulkResponse(null, 1)).toEqual(["retry"]);
  });
});
