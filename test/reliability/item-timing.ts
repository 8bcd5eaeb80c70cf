// The processor's per-item time, measured in process: the processor worker's queue handler is
// wrapped so that, before the real batch runs, each item of each message is prepared alone (load,
// scrub, normalize, group: the per-item work) and timed. One slow item delays its whole batch and
// every other tenant's items in it, so the suites report and bound the slowest one.
import { decodeMessage } from "../../shared/queue-codec";
import processor from "../../workers/processor/index";
import { prepareItem } from "../../workers/processor/prepare";

export interface SlowItem {
  ms: number;
  itemType: string;
  projectId: string;
  bytes: number;
  /** The first characters of the payload, to tell which shape it was. */
  preview: string;
}

export interface ItemTimer {
  /** Items timed so far, per protocol. */
  count(protocol: string): number;
  /** The slowest item so far, per protocol (null before the first). */
  slowest(protocol: string): SlowItem | null;
  /** Items whose preparation threw (the processor's own run dead-letters or retries them). */
  failures(protocol: string): string[];
  /** Forgets what was measured (e.g. between phases). */
  reset(): void;
  restore(): void;
}

export function timeItems(): ItemTimer {
  const original = processor.queue;
  let counts: Record<string, number> = {};
  let slowest: Record<string, SlowItem> = {};
  let failures: Record<string, string[]> = {};
  processor.queue = async (batch, env) => {
    if (batch.queue !== "sluice-dlq") {
      for (const msg of batch.messages) {
        let items: ReturnType<typeof decodeMessage>["items"];
        try {
          items = decodeMessage(msg.body).items;
        } catch {
          continue; // undecodable: the processor itself dead-letters it, there is no item to time
        }
        for (const item of items) {
          const start = performance.now();
          try {
            await prepareItem(item, env);
          } catch (err) {
            (failures[item.protocol] ??= []).push(`${item.itemType}: ${String(err).slice(0, 200)}`);
          }
          const ms = performance.now() - start;
          counts[item.protocol] = (counts[item.protocol] ?? 0) + 1;
          if (ms > (slowest[item.protocol]?.ms ?? -1)) {
            slowest[item.protocol] = {
              ms: Math.round(ms * 10) / 10,
              itemType: item.itemType,
              projectId: item.projectId,
              bytes: item.size,
              preview: (item.payload ?? item.blobKey ?? "").slice(0, 80),
            };
          }
        }
      }
    }
    return original(batch, env);
  };
  return {
    count: (p) => counts[p] ?? 0,
    slowest: (p) => slowest[p] ?? null,
    failures: (p) => failures[p] ?? [],
    reset() {
      counts = {};
      slowest = {};
      failures = {};
    },
    restore() {
      processor.queue = original;
    },
  };
}
