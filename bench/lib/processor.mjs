// Section 3: the processor's batch path (workers/processor/process-batch.ts) inside workerd, via a
// small bench worker (bench/processor-worker.ts) on Miniflare with on-disk local D1 and R2 (as
// `npm start` has them) and real local queues for the index and dead-letter sends.
import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";
import { BENCH, bundleForWorkerd, scratch } from "./build.mjs";
import { dropEsPrefix, installEsTemplate } from "./es.mjs";
import { batches, buildMessages, itemsIn, MIX, workloadMix } from "./messages.mjs";
import { applyMigrations, COMPAT, DRAIN_WORKER, freePort, seedProject } from "./miniflare.mjs";
import { median, pct } from "./stats.mjs";

const run = promisify(execFile);

const r2 = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Adds one call's D1 figures per statement (rows read and written, executions, SQL ms) into each of `intos`. */
function addStatements(byStatement, ...intos) {
  for (const [k, v] of Object.entries(byStatement))
    for (const into of intos) {
      const s = (into[k] ??= { read: 0, written: 0, n: 0, ms: 0 });
      s.read += v.read;
      s.written += v.written;
      s.ms += v.ms ?? 0;
      s.n += v.n;
    }
}

const CHUNK = 64 * 1024;
/** Cloudflare bills a queue message 3 operations (write, read, delete) per 64 KB chunk. */
export const queueOpsOf = (body) => 3 * Math.max(1, Math.ceil(Buffer.byteLength(body) / CHUNK));

/**
 * One processor run. `search`: "fts" (no Elasticsearch: the indexer writes D1 FTS5) or "es"
 * (ELASTICSEARCH_URL given to the processor and the indexer; `esUrl` must answer). Every index
 * message the processor sends is run through the real indexer, so its D1 rows and time count.
 */
export async function benchProcessor(
  lib,
  libPath,
  {
    errors = 5000,
    rumEvents = 2500,
    sessions = 0,
    heap = true,
    concurrency = 16,
    search = "fts",
    esUrl = null,
    parse = true,
    fixedBytes = null,
    latencyMs = 0,
    retention = true,
  } = {},
) {
  const notes = [];
  const mix = await workloadMix(lib);
  const sentry = mix.sentryEdge && mix.sentryProcessor;
  if (!mix.sentryEdge)
    notes.push("Sentry events not in the mix: the edge does not serve /api/:id/envelope/ yet.");
  else if (!mix.sentryProcessor)
    notes.push(
      `Sentry events not in the mix: the edge accepts envelopes but the processor has no Sentry preparer yet (preparers: ${mix.preparers.join(", ")}).`,
    );
  const gen = await buildMessages(lib, {
    errors,
    rumEvents,
    sessions: sentry ? sessions : 0,
    seed: 7,
    sentry,
    concurrency,
    fixedBytes,
  });
  // The groups first: one event of every group the mix draws, so the run measures a project whose
  // groups exist (as they do after its first hours), and what creating a group costs is reported
  // on its own (newGroups), not spread over a few thousand events.
  const seedGen = await buildMessages(lib, {
    errors: 0,
    everyGroup: true,
    seed: 8,
    sentry,
    concurrency,
    fixedBytes,
  });
  // Then one fold cycle of the same traffic (batches until the processor folds), so the pages the
  // group deltas cycle through (freed by each fold, reused by the next deltas) are there before
  // growth is measured: they are a working set per shard, not data held per event.
  const cycleGen = await buildMessages(lib, {
    errors: lib.FOLD_MAX_PENDING * 100 * concurrency,
    seed: 9,
    sentry,
    concurrency,
    // Small reports: the deltas' size follows the groups a batch touches, not the payloads.
    fixedBytes: 2048,
  });

  const bundle = await bundleForWorkerd("bench/processor-worker.ts", "processor-bench");
  const state = scratch(`processor-state-${search}-${concurrency}-${errors}-${fixedBytes}`);
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  const port = await freePort();
  const esPrefix = search === "es" ? `sluicebench-proc-${process.pid}-${Date.now()}` : null;
  if (search === "es") await installEsTemplate(esUrl, esPrefix);
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    cf: false,
    log: new Log(LogLevel.WARN),
    d1Persist: join(state, "d1"),
    r2Persist: join(state, "r2"),
    workers: [
      {
        name: "processor-bench",
        modules: true,
        scriptPath: bundle,
        modulesRoot: dirname(bundle),
        ...COMPAT,
        d1Databases: { DB: "sluice" },
        r2Buckets: { BLOBS: "sluice-blobs" },
        // Q_ALERTS: the alert hook runs (its rules look-up is counted; the bench has no rules).
        queueProducers: {
          Q_INDEX: { queueName: "sluice-index" },
          Q_DLQ: { queueName: "sluice-dlq" },
          Q_ALERTS: { queueName: "sluice-alerts" },
        },
        bindings: search === "es" ? { ELASTICSEARCH_URL: esUrl, ELASTICSEARCH_INDEX_PREFIX: esPrefix } : {},
      },
      {
        name: "drain",
        modules: true,
        script: DRAIN_WORKER,
        ...COMPAT,
        queueConsumers: {
          "sluice-index": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
          "sluice-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.1 },
        },
      },
    ],
  });
  try {
    await mf.ready;
    const db = await mf.getD1Database("DB", "processor-bench");
    await applyMigrations(db);
    await seedProject(db);
    if (gen.blobs.size + seedGen.blobs.size + cycleGen.blobs.size > 0) {
      const bucket = await mf.getR2Bucket("BLOBS", "processor-bench");
      for (const [k, v] of [...gen.blobs, ...seedGen.blobs, ...cycleGen.blobs]) await bucket.put(k, v);
    }
    const newGroups = { groups: 0, events: 0, rowsWritten: 0, sizeAfter: 0 };
    for (const [queue, bodies] of seedGen.byQueue) {
      for (const b of batches(bodies, 100)) {
        const res = await post(port, "batch", b, queue);
        newGroups.events += res.metrics.items;
        newGroups.rowsWritten += res.d1.rowsWritten;
        newGroups.sizeAfter = Math.max(newGroups.sizeAfter, res.d1.sizeAfter);
      }
    }
    {
      const res = await post(port, "fold", []);
      newGroups.rowsWritten += res.d1.rowsWritten;
      newGroups.sizeAfter = Math.max(newGroups.sizeAfter, res.d1.sizeAfter);
      newGroups.groups = (await db.prepare("SELECT count(*) AS n FROM error_groups").first()).n;
    }
    const cycle = { batches: 0, events: 0, folded: false };
    for (const [queue, bodies] of cycleGen.byQueue) {
      for (const b of batches(bodies, 100)) {
        const res = await post(port, "batch", b, queue);
        cycle.batches++;
        cycle.events += res.metrics.items;
        newGroups.sizeAfter = Math.max(newGroups.sizeAfter, res.d1.sizeAfter);
        if (res.metrics.groupFolds > 0) {
          cycle.folded = true;
          break;
        }
      }
    }
    if (!cycle.folded)
      notes.push(`warm-up: no fold after ${cycle.batches} batches; growth includes the deltas' pages`);
    const base = await post(port, "fold", []);
    const ledgerBase = base.ledgerBytes;
    const rowBytesBase = base.rowBytes;
    const byTableBase = base.rowBytesByTable ?? {};
    const perQueue = {};
    const all = {
      d1ms: 0,
      r2ms: 0,
      qms: 0,
      byStatement: {},
      ms: [],
      wall: [],
      items: 0,
      stored: 0,
      r2: 0,
      d1w: 0,
      d1wReported: 0,
      d1r: 0,
      idx: 0,
      dl: 0,
      retried: 0,
      sizeBase: newGroups.sizeAfter,
      sizeAfter: 0,
      unmetered: 0,
    };
    // One warm-up batch per queue (JIT, SQLite page cache), not counted: all of them first, so the
    // database size after them is the base of the growth the counted events cause.
    const lists = new Map();
    for (const [queue, bodies] of gen.byQueue) {
      const list = batches(bodies, 100);
      if (list.length > 1) {
        const warm = await post(port, "batch", list.shift(), queue);
        all.sizeBase = Math.max(all.sizeBase, warm.d1.sizeAfter);
        all.warmItems = (all.warmItems ?? 0) + warm.metrics.items;
      }
      lists.set(queue, list);
    }
    for (const [queue, list] of lists) {
      const q = {
        batches: 0,
        items: 0,
        ms: 0,
        waitMs: 0,
        parseMs: 0,
        parsed: 0,
        r2Put: 0,
        r2Get: 0,
        r2Bytes: 0,
        d1w: 0,
        d1r: 0,
        d1q: 0,
        idx: 0,
        messages: 0,
        queueOps: 0,
        messageBytes: 0,
        indexBodies: [],
        byStatement: {},
      };
      for (const b of list) {
        const t0 = performance.now();
        const res = await post(port, "batch", b, queue);
        const wall = performance.now() - t0;
        // JSON.parse of the same payloads in the same runtime, right after (noise hits both alike).
        if (parse) {
          const pr = await post(port, "parse", b);
          q.parseMs += pr.ms;
          q.parsed += pr.payloads;
        }
        const m = res.metrics;
        all.foldMs = (all.foldMs ?? 0) + res.ms;
        all.d1ms += res.d1.ms;
        all.r2ms += res.r2.ms;
        all.qms += res.queues.ms;
        all.awaitMs = (all.awaitMs ?? 0) + res.awaitingMs;
        all.unmetered += res.d1.unmetered;
        all.sizeAfter = Math.max(all.sizeAfter, res.d1.sizeAfter);
        addStatements(res.d1.byStatement, all.byStatement, q.byStatement);
        all.wall.push(wall);
        all.items += m.items;
        all.stored += m.stored;
        all.r2 += m.r2Writes;
        all.d1w += res.d1.rowsWritten;
        all.d1wReported += m.d1RowsWritten;
        all.d1r += res.d1.rowsRead;
        all.idx += m.indexMessages;
        all.dl += m.deadLettered;
        all.retried += m.retried;
        q.batches++;
        q.messages += b.length;
        for (const body of b) {
          q.queueOps += queueOpsOf(body);
          q.messageBytes += Buffer.byteLength(body);
        }
        q.items += m.items;
        q.ms += res.ms;
        q.waitMs += res.awaitingMs; // overlapping waits counted once (processor-worker.ts)
        q.r2Put += res.r2.byMethod.put ?? 0;
        q.r2Bytes += res.r2.putBytes;
        q.r2Get += (res.r2.byMethod.get ?? 0) + (res.r2.byMethod.head ?? 0);
        q.d1w += res.d1.rowsWritten;
        q.d1r += res.d1.rowsRead;
        q.d1q += res.d1.queries;
        q.idx += m.indexMessages;
        q.indexBodies.push(...res.indexBodies);
      }
      // The group deltas the last batches left pending (shared/db/group-fold.ts): folded now, as
      // the next batch or a reader would, and counted with this queue's events (time and rows).
      {
        const res = await post(port, "fold", []);
        q.ms += res.ms;
        q.waitMs += res.d1.ms;
        q.d1w += res.d1.rowsWritten;
        q.d1r += res.d1.rowsRead;
        q.d1q += res.d1.queries;
        all.ms.push(res.ms);
        all.d1ms += res.d1.ms;
        all.awaitMs = (all.awaitMs ?? 0) + res.d1.ms;
        all.d1w += res.d1.rowsWritten;
        all.d1r += res.d1.rowsRead;
        all.sizeAfter = Math.max(all.sizeAfter, res.d1.sizeAfter);
        q.ledgerBytes = res.ledgerBytes - (all.ledgerBytes ?? ledgerBase);
        all.ledgerBytes = res.ledgerBytes;
        // Rows this queue's events added (the fold after each queue's batches reads them).
        q.rowBytes = res.rowBytes - (all.rowBytes ?? rowBytesBase);
        all.rowBytes = res.rowBytes;
        all.rowBytesByTable = res.rowBytesByTable;
        q.folds = (q.folds ?? 0) + res.deltas;
        addStatements(res.d1.byStatement, all.byStatement, q.byStatement);
      }
      // The indexer: the index messages this queue's batches produced, in consumer batches of 100.
      const ix = {
        ms: 0,
        waitMs: 0,
        d1w: 0,
        d1r: 0,
        d1q: 0,
        invocations: 0,
        queueOps: 0,
        bytes: 0,
        dead: 0,
        retried: 0,
      };
      for (const body of q.indexBodies) {
        ix.queueOps += queueOpsOf(body);
        ix.bytes += Buffer.byteLength(body);
      }
      for (const b of batches(q.indexBodies, 100)) {
        const res = await post(port, "index", b);
        ix.invocations++;
        ix.ms += res.ms;
        ix.waitMs += res.d1.ms + res.fetchMs;
        ix.d1w += res.d1.rowsWritten;
        ix.d1r += res.d1.rowsRead;
        ix.d1q += res.d1.queries;
        ix.dead += res.deadLettered;
        ix.retried += res.retried;
        all.unmetered += res.d1.unmetered;
        all.sizeAfter = Math.max(all.sizeAfter, res.d1.sizeAfter);
        addStatements(res.d1.byStatement, all.byStatement);
      }
      if (ix.dead || ix.retried)
        notes.push(`indexer (${queue}): ${ix.dead} docs dead-lettered, ${ix.retried} messages retried`);
      const n = Math.max(1, q.items);
      perQueue[queue] = {
        batches: q.batches,
        events: q.items,
        messages: q.messages,
        eventsPerMessage: r2(q.items / Math.max(1, q.messages)),
        eventsPerSecond: Math.round(q.items / (q.ms / 1000)),
        msPerBatch: r2(q.ms / Math.max(1, q.batches), 1),
        d1QueriesPerBatch: r2(q.d1q / Math.max(1, q.batches), 2),
        msPerEvent: r2(q.ms / n, 4),
        // Wall time minus time awaiting D1, R2 and queues: the CPU Workers would bill (approx.).
        cpuMsPerEvent: r2(Math.max(0, q.ms - q.waitMs) / n, 4),
        parseMsPerEvent: q.parsed ? r2(q.parseMs / q.parsed, 5) : null,
        costVsJsonParse: q.parsed && q.parseMs > 0 ? r2(q.ms / n / (q.parseMs / q.parsed), 2) : null,
        queueOpsPerEvent: r2(q.queueOps / n, 4),
        messageBytesPerEvent: Math.round(q.messageBytes / n),
        r2WritesPerEvent: r2(q.r2Put / n, 4),
        r2ReadsPerEvent: r2(q.r2Get / n, 4),
        r2BytesPerEvent: Math.round(q.r2Bytes / n),
        d1RowsWrittenPerEvent: r2(q.d1w / n, 3),
        // To 0.1 B, as the ledger's share below: the capacity plan subtracts one from the other,
        // and whole bytes made a 0.4 B rounding look like 0.6 B of rows kept for the retention.
        d1RowBytesPerEvent: q.rowBytes != null ? r2(q.rowBytes / n, 1) : null,
        // Of which the message ledger's (held only while the queue can redeliver).
        d1LedgerBytesPerEvent: q.ledgerBytes != null ? r2(q.ledgerBytes / n, 1) : null,
        d1RowsReadPerEvent: r2(q.d1r / n, 3),
        d1QueriesPerEvent: r2(q.d1q / n, 4),
        processorInvocationsPerEvent: r2(q.batches / n, 6),
        indexMessagesPerEvent: r2(q.idx / n, 4),
        // What each statement of this queue's batches wrote, per event of this queue (the error
        // budget's breakdown: RUM pointer rows are the RUM queue's, never the errors').
        d1ByStatementPerEvent: Object.fromEntries(
          Object.entries(q.byStatement).map(([k, v]) => [
            k,
            {
              rowsRead: r2(v.read / n, 2),
              rowsWritten: r2(v.written / n, 3),
              sqlUsPerEvent: r2((1000 * v.ms) / n, 2),
            },
          ]),
        ),
        indexer: {
          invocationsPerEvent: r2(ix.invocations / n, 6),
          msPerEvent: r2(ix.ms / n, 4),
          cpuMsPerEvent: r2(Math.max(0, ix.ms - ix.waitMs) / n, 4),
          queueOpsPerEvent: r2(ix.queueOps / n, 4),
          messageBytesPerEvent: Math.round(ix.bytes / n),
          d1RowsWrittenPerEvent: r2(ix.d1w / n, 3),
          d1RowsReadPerEvent: r2(ix.d1r / n, 3),
          d1QueriesPerEvent: r2(ix.d1q / n, 4),
          msPerBatch: r2(ix.ms / Math.max(1, ix.invocations), 1),
        },
      };
    }
    // Retention deleting everything the run wrote (warm-up and seed batches included), per event
    // written: D1 bills each deleted row (and index entry) as a row written, R2 lists are class A
    // (deletes are free). The cron's cost with nothing to delete is its schedule's, taken off.
    let retentionCost = null;
    if (retention) {
      // The last documents indexed become searchable (and deletable) at the next refresh, as they
      // are long before their retention passes in production.
      if (esPrefix) await fetch(`${esUrl}/${esPrefix}-*/_refresh`, { method: "POST" });
      const res = await post(port, "retention", []);
      const written = newGroups.events + cycle.events + (all.warmItems ?? 0) + all.items;
      // Every event written left metadata rows, but only the counted batches' events were indexed:
      // the embedded index's deletes are counted per document deleted (one per event), the rest
      // per event written.
      const fts = Object.entries(res.d1.byStatement)
        .filter(([sql]) => sql.startsWith("DELETE FROM search_docs"))
        .reduce((a, [, st]) => ({ read: a.read + st.read, written: a.written + st.written }), {
          read: 0,
          written: 0,
        });
      const perDoc = (n) => (res.searchDocsDeleted > 0 ? n / res.searchDocsDeleted : 0);
      const less = (total, idle, ftsPart) =>
        Math.max(0, total - ftsPart - idle * res.runs) / Math.max(1, written) + perDoc(ftsPart);
      if (res.errors.length > 0) notes.push(`retention: ${res.errors.join("; ")}`);
      retentionCost = {
        runs: res.runs,
        eventsWritten: written,
        kinds: rumEvents > 0 || sessions > 0 ? "all kinds of the run" : "error events",
        segmentsDeleted: res.segmentsDeleted,
        searchDocsDeleted: res.searchDocsDeleted,
        d1RowsWrittenPerEvent: r2(less(res.d1.rowsWritten, res.idle.rowsWritten, fts.written), 4),
        d1RowsReadPerEvent: r2(less(res.d1.rowsRead, res.idle.rowsRead, fts.read), 3),
        embeddedIndexRowsWrittenPerDoc: r2(perDoc(fts.written), 3),
        d1QueriesPerEvent: r2(less(res.d1.queries, res.idle.queries, 0), 5),
        r2ClassAPerEvent: r2(less(res.r2.byMethod.list ?? 0, res.idle.r2List, 0), 6),
        r2DeletesPerEvent: r2((res.r2.byMethod.delete ?? 0) / Math.max(1, written), 6),
        idleRun: res.idle,
      };
    }
    const remoteLatency =
      latencyMs > 0 ? await probeLatency(lib, port, { latencyMs, sentry, concurrency }) : null;
    if (all.dl > 0 || all.retried > 0 || all.stored !== all.items)
      notes.push(
        `processor: ${all.dl} dead-lettered, ${all.retried} retried, ${all.stored}/${all.items} stored`,
      );
    if (all.unmetered > 0)
      notes.push(`${all.unmetered} D1 queries used raw(), whose rows D1 does not report (not counted)`);
    const totalMs = all.ms.reduce((a, b) => a + b, 0) + (all.foldMs ?? 0);
    const totalWall = all.wall.reduce((a, b) => a + b, 0);
    const errorsQ = perQueue["sluice-errors-0"];
    const result = {
      method:
        "processBatch in workerd (Miniflare, on-disk local D1 + R2, real local queues), sequential batches of 100 messages; time = performance.now() around processBatch inside the worker",
      search,
      mix: gen.kinds,
      mixRule: MIX,
      seed: gen.seed,
      raygunReportBytes: gen.raygunSizes,
      clientsInFlight: concurrency,
      fixedBytes,
      eventsPerMessage: r2(all.items / Object.values(perQueue).reduce((n, q) => n + q.messages, 0)),
      events: all.items,
      stored: all.stored,
      batches: all.ms.length,
      // The budgets are on error events alone; RUM is reported beside them (perQueue).
      eventsPerSecond: errorsQ?.eventsPerSecond ?? null,
      allKindsEventsPerSecond: Math.round(all.items / (totalMs / 1000)),
      eventsPerSecondWall: Math.round(all.items / (totalWall / 1000)),
      costVsJsonParse: errorsQ?.costVsJsonParse ?? null,
      r2WritesPerEvent: errorsQ?.r2WritesPerEvent ?? null,
      d1RowsWrittenPerEvent: errorsQ
        ? r2(errorsQ.d1RowsWrittenPerEvent + errorsQ.indexer.d1RowsWrittenPerEvent, 3)
        : null,
      d1RowsWrittenPerEventProcessorMetric: r2(all.d1wReported / all.items, 3),
      d1RowsReadPerEvent: errorsQ
        ? r2(errorsQ.d1RowsReadPerEvent + errorsQ.indexer.d1RowsReadPerEvent, 3)
        : null,
      d1BytesPerEvent:
        all.sizeAfter > all.sizeBase ? Math.round((all.sizeAfter - all.sizeBase) / all.items) : null,
      // The rows' own bytes added by the run (sum of column lengths; no b-tree overhead): the file's
      // growth can hide new rows in pages a fold freed, so the larger of the two is what is held.
      d1RowBytesPerEvent: all.rowBytes != null ? r2((all.rowBytes - rowBytesBase) / all.items, 1) : null,
      d1RowBytesPerEventByTable: Object.fromEntries(
        Object.entries(all.rowBytesByTable ?? {})
          .map(([t, b]) => [t, r2((b - (byTableBase[t] ?? 0)) / all.items, 1)])
          .filter(([, b]) => b !== 0),
      ),
      // Of which the message ledger's rows (held only while the queue can redeliver).
      d1LedgerBytesPerEvent:
        all.ledgerBytes != null ? r2((all.ledgerBytes - ledgerBase) / all.items, 1) : null,
      indexMessagesPerEvent: r2(all.idx / all.items, 4),
      // What making the mix's groups cost, before the measured run (one event per group).
      foldCycleWarmUp: cycle,
      newGroups: {
        groups: newGroups.groups,
        events: newGroups.events,
        d1RowsWrittenPerGroup: r2(newGroups.rowsWritten / Math.max(1, newGroups.groups), 2),
      },
      batchP50Ms: r2(pct(all.ms, 50), 1),
      batchP99Ms: r2(pct(all.ms, 99), 1),
      batchMeanMs: r2(totalMs / Math.max(1, all.ms.length), 1),
      perQueue,
      remoteLatency,
      retention: retentionCost,
      timeBreakdownPct: {
        d1Batch: r2((100 * all.d1ms) / totalMs, 1),
        r2Put: r2((100 * all.r2ms) / totalMs, 1),
        queueSends: r2((100 * all.qms) / totalMs, 1),
        // Waits overlap (process-batch.ts): any binding awaited counts each moment once.
        anyBindingAwaited: r2((100 * all.awaitMs) / totalMs, 1),
        prepareEncodeAndOther: r2((100 * (totalMs - all.awaitMs)) / totalMs, 1),
      },
      d1ByStatementPerEvent: Object.fromEntries(
        Object.entries(all.byStatement).map(([k, v]) => [
          k,
          {
            rowsRead: r2(v.read / all.items, 2),
            rowsWritten: r2(v.written / all.items, 3),
            sqlUsPerEvent: r2((1000 * v.ms) / all.items, 2),
          },
        ]),
      ),
      edge: {
        r2PutsPerEvent: r2(gen.edgeStats.r2Puts / Math.max(1, errors + rumEvents + gen.kinds.sessions), 5),
      },
      peakHeapMB: null,
      heap: null,
      notes,
    };
    if (heap) {
      const { stdout } = await run(
        process.execPath,
        ["--expose-gc", join(BENCH, "lib", "processor-heap.mjs"), libPath],
        { maxBuffer: 1 << 22, timeout: 180_000 },
      );
      const h = JSON.parse(stdout.trim().split("\n").pop());
      result.heap = h;
      result.peakHeapMB = h.peakMB;
    }
    return result;
  } finally {
    await mf.dispose();
    if (esPrefix) await dropEsPrefix(esUrl, esPrefix);
  }
}

/**
 * Error batches of fresh traffic, alternately as measured (local bindings) and with `latencyMs`
 * added before every D1, R2 and queue call (processor-worker.ts): the extra time per batch over
 * the added latency is the number of round trips a batch waits for one after another, the figure
 * that decides its wall time against remote bindings. Not part of any other figure.
 */
async function probeLatency(lib, port, { latencyMs, sentry, concurrency }) {
  const probe = await buildMessages(lib, { errors: 4000, seed: 12, sentry, concurrency });
  const list = batches(probe.byQueue.get("sluice-errors-0") ?? [], 100);
  const plain = [];
  const slow = [];
  let calls = 0;
  for (let i = 0; i < list.length; i++) {
    const added = i % 2 === 1 ? latencyMs : 0;
    const res = await post(port, "batch", list[i], "sluice-errors-0", `&latencyMs=${added}`);
    (added ? slow : plain).push(res.ms);
    if (added) calls += res.bindingCalls;
  }
  return {
    addedMsPerCall: latencyMs,
    batches: { plain: plain.length, withLatency: slow.length },
    msPerBatch: r2(median(plain), 1),
    msPerBatchWithLatency: r2(median(slow), 1),
    bindingCallsPerBatch: r2(calls / Math.max(1, slow.length), 1),
    sequentialRoundTrips: r2((median(slow) - median(plain)) / latencyMs, 1),
  };
}

async function post(port, path, bodies, queue = "", extra = "") {
  const res = await fetch(`http://127.0.0.1:${port}/${path}?queue=${queue}${extra}`, {
    method: "POST",
    body: JSON.stringify(bodies),
  });
  if (!res.ok) throw new Error(`bench worker: ${res.status} ${await res.text()}`);
  return res.json();
}

export { itemsIn };
