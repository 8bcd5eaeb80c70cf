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
    expect(bulkChunks("p", [huge], { maxBytes: 1000, maxDocs: 10 }).dead).toEqual([
      { position: 9, dead: "document larger than the bulk request limit" },
    ]);
    const [action, source] = bulkChunks("p", docs.slice(0, 1)).chunks[0]!.body.split("\n");
    expect(JSON.parse(action!)).toEqual({ create: { _index: "p-2024.01", _id: "p1:ev01" } });
    expect(JSON.parse(source!).occurredAt).toBe(corpusDoc(1).occurredAt);
  });

  it("reports a doc that cannot be serialised as dead, and still chunks the others", () => {
    // prepareDoc refuses such times now; this is the second line of defence, so a throw while
    // building one doc's lines can never fail the whole queue batch again.
    const docs = [
      { position: 0, doc: prepared(1) },
      { position: 1, doc: { ...prepared(2), occurredAt: 1e16 } },
      { position: 2, doc: { ...prepared(3), release: 5n as unknown as string } },
      { position: 3, doc: prepared(4) },
    ];
    const { chunks, dead } = bulkChunks("p", docs);
    expect(chunks.map((c) => c.positions)).toEqual([[0, 3]]);
    expect(dead).toEqual([
      { position: 1, dead: expect.stringMatching(/^invalid document: cannot be serialised: RangeError/) },
      { position: 2, dead: expect.stringMatching(/^invalid document: cannot be serialised: TypeError/) },
    ]);
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

  // Item errors as Elasticsearch returns them (ES 9.4 for the first group; the pre-8.8 types from
  // elastic/elasticsearch#92646). Only errors about the document's content are dead-lettered.
  it.each([
    ["document_parsing_exception", "[1:32] failed to parse field [release] of type [keyword] in document"],
    ["document_parsing_exception", "[1:29] failed to parse field [occurredAt] of type [date] in document"],
    ["mapper_parsing_exception", "failed to parse field [occurredAt] of type [date] in document with id 'x'"],
    ["illegal_argument_exception", 'Document contains at least one immense term in field="message" (whose…'],
  ])("dead-letters a 400 about the document: %s", (type, reason) => {
    expect(itemResult({ status: 400, error: { type, reason } })).toEqual({
      dead: `elasticsearch rejected the document: ${type}: ${reason}`,
    });
  });

  // 400s about the target index or the cluster: the same doc succeeds once ops fix it, and each of
  // these would otherwise dead-letter every doc of the month.
  it.each([
    ["index_closed_exception", "closed"],
    ["invalid_index_name_exception", "Invalid index name [p-BAD], must be lowercase"],
    [
      "validation_exception",
      "Validation Failed: 1: this action would add [1] shards, but this cluster currently has [1000]/[1000] maximum normal shards open;",
    ],
    [
      "illegal_argument_exception",
      "Validation Failed: 1: this action would add [10] total shards, but this cluster currently has [2402]/[2000] maximum shards open;",
    ],
    ["illegal_argument_exception", "no write index is defined for alias [p]"],
    ["illegal_argument_exception", "pipeline with id [x] does not exist"],
    ["mapper_parsing_exception", "Failed to parse mapping: unknown parameter [x] on mapper [y]"],
    [
      "strict_dynamic_mapping_exception",
      "[1:23] mapping set to strict, dynamic introduction of [x] within [_doc]",
    ],
    ["cluster_block_exception", "index [p-2024.01] blocked by: [FORBIDDEN/8/index write (api)];"],
    ["resource_not_found_exception", "something new"],
    [undefined, undefined],
  ])("retries a 400 about the index or cluster: %s", (type, reason) => {
    expect(itemResult({ status: 400, error: { type, reason } })).toBe("retry");
  });

  it("maps a response with a non-document 400 to retry for that doc only", () => {
    const res = {
      errors: true,
      items: [
        { create: { status: 201 } },
        { create: { status: 400, error: { type: "index_closed_exception", reason: "closed" } } },
        { create: { status: 400, error: { type: "document_parsing_exception", reason: "bad" } } },
      ],
    };
    expect(readBulkResponse(res, 3)).toEqual(["ok", "retry", { dead: expect.stringContaining("bad") }]);
  });

  it("retries everything when the response cannot be read", () => {
    expect(readBulkResponse({ errors: false, items: [{}, {}] }, 2)).toEqual(["ok", "ok"]);
    expect(readBulkResponse({ items: [{}] }, 2)).toEqual(["retry", "retry"]);
    expect(readBulkResponse(null, 1)).toEqual(["retry"]);
  });
});
