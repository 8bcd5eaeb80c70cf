// The fixed corpus of the search conformance suite (conformance.ts): 24 docs in two projects,
// three groups, several releases, levels and months. Plain data, also used by bench-es.mjs.

import type { SearchDoc } from "../queue-message";

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 10); // p1 spans Jan–Mar 2024: three monthly ES indices.

/** ev01…ev24; ev05 and ev06 share a timestamp (eventId breaks the tie). */
export const at = (n: number) => T0 + (n === 6 ? 5 : n) * 3 * DAY;
export const id = (n: number) => `ev${String(n).padStart(2, "0")}`;
export const ids = (...ns: number[]) => ns.map(id);
export const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** p1's ids newest first. */
export const newest = (ns: number[]) => [...ns].sort((a, b) => at(b) - at(a) || b - a).map(id);

const GROUPS: Record<string, Partial<SearchDoc>> = {
  g1: {
    type: "TypeError",
    message: "Cannot read properties of undefined (reading 'foo')",
    stack: "app.main (src/app.js)\nutil.readFoo (src/util.js)",
  },
  g2: { type: "ReferenceError", message: "bar is not defined", stack: "checkout.submit (src/checkout.ts)" },
  g3: { type: "NetworkError", message: "Failed to fetch https://api.example.com/v1/orders", stack: "" },
};

function group(n: number): string | null {
  if (n >= 21) return "g1";
  return n <= 8 ? "g1" : n <= 14 ? "g2" : n <= 18 ? "g3" : null;
}

export function corpusDoc(n: number): SearchDoc {
  const g = group(n);
  const base: SearchDoc = {
    eventId: id(n),
    projectId: n <= 20 ? "p1" : "p2",
    groupId: g,
    fingerprint: g ? `fp-${g}` : null,
    category: "error",
    occurredAt: new Date(at(n)).toISOString(),
    receivedAt: new Date(at(n) + 1000).toISOString(),
    type: null,
    message: "",
    level: n === 7 ? "fatal" : "error",
    release: n >= 15 ? "2.0.0" : n % 2 ? "1.0.0" : "1.1.0",
    environment: n % 3 === 0 ? "staging" : "production",
    user: n <= 4 ? "alice" : n === 10 ? null : "bob",
    platform: n >= 9 && n <= 14 ? "node" : "javascript",
    stack: "",
    tags: { browser: n % 2 ? "Chrome" : "Firefox", "os.name": "Linux" },
    // The event index's pointer to the raw record (ev20 has none: searchable, no detail).
    ...(n === 20
      ? {}
      : { segmentKey: `segments/seg-${Math.ceil(n / 10)}`, segmentOffset: n * 100, segmentLength: 90 + n }),
    ...(g ? GROUPS[g] : {}),
  };
  if (n === 19)
    Object.assign(base, {
      message: "Timeout après 30 s — naïve café; ファイルが見つかりません 中文字",
      level: "warning",
    });
  if (n === 20)
    Object.assign(base, { type: "Error", message: 'Weird "quoted" * NEAR - : input', level: "info" });
  return base;
}

export const CORPUS: SearchDoc[] = range(1, 24).map(corpusDoc);
