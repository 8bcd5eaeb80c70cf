// fast-check generators of hostile request bodies and credentials for the edge. Bodies start from
// real captured payloads (Raygun fixtures, Sentry SDK envelopes) and are mutated with
// fc.anything() at any path, or are raw junk: malformed JSON, invalid UTF-8, deep nesting, big
// arrays, truncations, regex-hostile text (hostile-text.ts). Requests get odd, duplicated, oversized,
// foreign or random unknown credentials, and real or lying encodings (gzip, deflate, br, zstd).
import fc from "fast-check";
import { type FixtureName, fixtureBytes } from "../../shared/sentry/fixtures/index";
import jsReport from "../../workers/edge/raygun/fixtures/raygun4js-shaped-pascalcase.json";
import nodeReport from "../../workers/edge/raygun/fixtures/raygun4node-2.2.8-error.json";
import { compress } from "./compression";
import { hostileValue } from "./hostile-text";

export type Body = string | Uint8Array;
type Path = (string | number)[];

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every path into a JSON value (objects and arrays included), capped to keep generation cheap. */
function allPaths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (out.length > 400 || value === null || typeof value !== "object") return out;
  for (const [k, v] of Object.entries(value))
    allPaths(v, [...prefix, Array.isArray(value) ? Number(k) : k], out);
  return out;
}

function setAt(root: unknown, path: Path, value: unknown, remove = false): unknown {
  if (path.length === 0) return value;
  if (root === null || typeof root !== "object") return root;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    // An earlier edit replaced an ancestor with a primitive: nothing left to edit here.
    if (next === null || typeof next !== "object") return copy;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
    return copy;
  }
  try {
    node[last] = value;
  } catch {
    /* e.g. an array's "length" set to a non-length: leave it */
  }
  return copy;
}

/** Values that are not JSON-shaped in the ways SDKs get wrong: every type, odd numbers, unicode. */
const anyValue = fc.anything({
  maxDepth: 3,
  maxKeys: 5,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: "binary",
});

/**
 * Regex-hostile strings of up to ~2 KB, many keys, deep nesting: every shape reaches every field,
 * while 10,000 runs stay quick (the ~64 KB ones that show superlinear time are dedicated cases).
 */
const hostile = hostileValue(1_000);

/** A real payload with one node replaced by anything, deleted, or the whole thing wrapped. */
export function mutated(base: unknown): fc.Arbitrary<unknown> {
  const paths = allPaths(base);
  const at = fc.constantFrom(...paths);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(at, anyValue).map(([p, v]) => setAt(base, p, v)) },
    { weight: 1, arbitrary: fc.tuple(at, hostile).map(([p, v]) => setAt(base, p, v)) },
    { weight: 2, arbitrary: at.map((p) => setAt(base, p, undefined, true)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(fc.tuple(at, anyValue), { minLength: 2, maxLength: 6 }))
        .map(([edits]) => edits.reduce((acc, [p, v]) => setAt(acc, p, v), base as unknown)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(at, fc.string({ unit: "binary", maxLength: 40 }))
        .map(([p, k]) => setAt(base, [...p.slice(0, -1), k], 1)),
    },
  );
}

/** Raw junk and structural attacks, independent of any protocol. */
export const junk: fc.Arbitrary<Body> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(
    "",
    " ",
    "null",
    "0",
    "-0",
    "1e309",
    "[]",
    "{}",
    '""',
    "true",
    "\u0000",
    "\ufeff{}",
    "{}{}",
    '{"a":1,}',
    "[1,]",
    "NaN",
    "{'a':1}",
  ),
  fc.integer({ min: 1, max: 20_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => "[".repeat(n)),
  fc.integer({ min: 0, max: 30_000 }).map((n) => `[${Array(n).fill("0").join(",")}]`),
);

/** Serializes a value, sometimes damaged: truncated, with invalid UTF-8 bytes, or re-encoded. */
export function serialized(value: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  const text = value.map((v) => {
    try {
      return JSON.stringify(v) ?? "undefined";
    } catch (err) {
      return String(err);
    }
  });
  return fc.oneof(
    { weight: 8, arbitrary: text },
    {
      weight: 1,
      arbitrary: fc
        .tuple(text, fc.double({ min: 0, max: 1, noNaN: true }))
        .map(([t, f]) => t.slice(0, Math.floor(t.length * f))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          text,
          fc.nat(),
          fc.constantFrom(
            [0xff],
            [0xc0, 0x80],
            [0xed, 0xa0, 0x80],
            [0xf4, 0x90, 0x80, 0x80],
            [0xe2, 0x82],
            [0x00],
          ),
        )
        .map(([t, at, bad]) => {
          const b = enc.encode(t);
          const i = b.length === 0 ? 0 : at % b.length;
          return new Uint8Array([...b.subarray(0, i), ...bad, ...b.subarray(i)]);
        }),
    },
  );
}

// ---------------------------------------------------------------- Raygun

const freshReport = (r: Record<string, unknown>) => ({
  ...r,
  ["occurredOn" in r ? "occurredOn" : "OccurredOn"]: new Date().toISOString(),
});
export const raygunReports = fc.oneof(mutated(freshReport(nodeReport)), mutated(freshReport(jsReport)));

export const rumBase = {
  eventData: [
    {
      sessionId: "s".repeat(32),
      timestamp: new Date().toISOString(),
      type: "web_request_timing",
      user: { Identifier: "u1", IsAnonymous: true },
      version: "2.8.0",
      device: "Mozilla/5.0",
      data: JSON.stringify([
        { url: "https://shop.example/cart?x=1", timing: { t: "p", du: "812.40", a: 0 } },
      ]),
    },
  ],
};

export const entriesBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 8, arbitrary: serialized(raygunReports) },
  { weight: 3, arbitrary: junk },
);

export const bulkBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 6,
    arbitrary: serialized(
      fc.array(fc.oneof({ weight: 4, arbitrary: raygunReports }, anyValue), { maxLength: 6 }),
    ),
  },
  { weight: 1, arbitrary: serialized(fc.constant(Array(101).fill(freshReport(nodeReport)))) },
  { weight: 1, arbitrary: serialized(raygunReports) },
  { weight: 3, arbitrary: junk },
);

export const rumBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 8, arbitrary: serialized(mutated(rumBase)) },
  {
    weight: 1,
    arbitrary: serialized(
      fc.integer({ min: 0, max: 150 }).map((n) => ({ EventData: Array(n).fill(rumBase.eventData[0]) })),
    ),
  },
  { weight: 3, arbitrary: junk },
);

/** A well-formed ingest key that belongs to no project (floods of these must stay cheap). */
export const unknownKey: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));

export interface Credentials {
  path?: string;
  query: string;
  headers: [string, string][];
}

/** Raygun credentials: mostly the right key in some carrier, often something hostile. */
export function raygunAuth(key: string, otherKey: string): fc.Arbitrary<Credentials> {
  const h = (v: string): Credentials => ({ query: "", headers: [["x-apikey", v]] });
  const q = (s: string): Credentials => ({ query: s, headers: [] });
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(h(key)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom("apikey", "apiKey", "APIKEY", "ApiKey").map((n) => q(`${n}=${key}`)),
    },
    {
      weight: 1,
      arbitrary: fc.constant({ query: `apikey=${key}`, headers: [["x-apikey", key]] } as Credentials),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        q(`apikey=bad&apikey=${key}`),
        q(`apikey=${key}&APIKEY=bad`),
        q(`apikey=&apikey=${key}`),
        q(`apikey=${key}&apikey=${otherKey}`),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        h(key.toUpperCase()),
        h(` ${key} `),
        h(key.slice(1)),
        h(`${key}0`),
        h("f".repeat(32)),
        h(otherKey),
      ),
    },
    { weight: 1, arbitrary: unknownKey.map(h) },
    { weight: 1, arbitrary: fc.integer({ min: 33, max: 60_000 }).map((n) => h("a".repeat(n))) },
    { weight: 1, arbitrary: fc.constantFrom(h(""), h("\t"), h(`${key},${key}`)) },
    {
      weight: 1,
      arbitrary: fc.constant({
        query: "",
        headers: [
          ["x-apikey", key],
          ["x-apikey", "bad"],
        ],
      } as Credentials),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "grapheme-ascii", maxLength: 64 })
        .map((s) => q(`apikey=${encodeURIComponent(s)}`)),
    },
    { weight: 1, arbitrary: fc.constant(q("")) },
  );
}

// ---------------------------------------------------------------- Sentry

const FIXTURE_KEY = "e12d836b15bb49d7bbf99e64295d995b";
const ENVELOPES: FixtureName[] = [
  "node-exception",
  "node-message",
  "node-transaction",
  "node-spans",
  "node-session",
  "node-session-errored",
  "node-sessions",
  "node-client-report",
  "node-attachment",
  "python-exception",
];

interface ParsedEnvelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: Uint8Array }[];
}

/** A tolerant parser for the fixtures only (they are well-formed). */
function splitEnvelope(bytes: Uint8Array): ParsedEnvelope {
  let at = 0;
  const line = () => {
    let end = bytes.indexOf(0x0a, at);
    if (end === -1) end = bytes.length;
    const out = bytes.subarray(at, end);
    at = end + 1;
    return out;
  };
  const header = JSON.parse(dec.decode(line())) as Record<string, unknown>;
  const items: ParsedEnvelope["items"] = [];
  while (at < bytes.length) {
    const raw = line();
    if (raw.length === 0) continue;
    const h = JSON.parse(dec.decode(raw)) as Record<string, unknown>;
    let payload: Uint8Array;
    if (typeof h.length === "number") {
      payload = bytes.subarray(at, at + h.length);
      at += h.length + 1;
    } else payload = line();
    items.push({ header: h, payload });
  }
  return { header, items };
}

function joinEnvelope(e: ParsedEnvelope, lengths: boolean, crlf: boolean): Uint8Array {
  const nl = crlf ? "\r\n" : "\n";
  let head: string;
  try {
    head = JSON.stringify(e.header) ?? "null";
  } catch {
    head = "null";
  }
  const parts: Uint8Array[] = [enc.encode(head + nl)];
  for (const it of e.items) {
    // A mutated item header may be anything (null, a number, an array), not only an object.
    const raw = it.header as unknown;
    const isObject = raw !== null && typeof raw === "object" && !Array.isArray(raw);
    const h = lengths && isObject && !("length" in raw) ? { ...raw, length: it.payload.byteLength } : raw;
    let line: string;
    try {
      line = JSON.stringify(h) ?? "null";
    } catch {
      line = "null";
    }
    parts.push(enc.encode(line + nl), it.payload, enc.encode(nl));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** The fixture envelopes, re-keyed for `key` and `projectId`, ready to mutate. */
export function sentryEnvelopes(key: string, projectId: string): ParsedEnvelope[] {
  return ENVELOPES.map((name) => {
    // The key is swapped byte for byte (same length, ASCII) so binary payloads stay intact.
    const bytes = fixtureBytes(name).slice();
    const from = enc.encode(FIXTURE_KEY);
    const to = enc.encode(key);
    for (let i = bytes.indexOf(from[0]!); i !== -1; i = bytes.indexOf(from[0]!, i + 1)) {
      if (from.every((b, j) => bytes[i + j] === b)) bytes.set(to, i);
    }
    const env = splitEnvelope(bytes);
    if (typeof env.header.dsn === "string") env.header.dsn = `http://${key}@sluice.test/${projectId}`;
    return env;
  });
}

const jsonOf = (b: Uint8Array): unknown => {
  try {
    return JSON.parse(dec.decode(b));
  } catch {
    return null;
  }
};

export function envelopeBody(bases: ParsedEnvelope[]): fc.Arbitrary<Body> {
  const base = fc.constantFrom(...bases);
  const itemTypes = fc.oneof(
    fc.constantFrom(
      "event",
      "transaction",
      "session",
      "sessions",
      "attachment",
      "client_report",
      "user_report",
      "feedback",
      "check_in",
      "span",
      "log",
      "profile",
      "replay_event",
      "replay_recording",
      "statsd",
      "otel_log",
      "nope",
    ),
    fc.string({ unit: "binary", maxLength: 12 }),
    anyValue,
  );
  const structured = fc
    .tuple(
      base,
      fc.nat(),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant("payload") },
        { weight: 2, arbitrary: fc.constant("envelope-header") },
        { weight: 2, arbitrary: fc.constant("item-header") },
        { weight: 1, arbitrary: fc.constant("type") },
        { weight: 1, arbitrary: fc.constant("length") },
        { weight: 1, arbitrary: fc.constant("bytes") },
        { weight: 1, arbitrary: fc.constant("duplicate") },
        { weight: 1, arbitrary: fc.constant("none") },
      ),
      itemTypes,
      fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.constantFrom(2 ** 53, 1e300, 0.5, "12", -0)),
      fc.uint8Array({ maxLength: 200 }),
      fc.integer({ min: 2, max: 300 }),
      fc.boolean(),
      fc.boolean(),
    )
    .chain(([e, pick, kind, type, length, bytes, copies, lengths, crlf]) => {
      const i = e.items.length === 0 ? 0 : pick % e.items.length;
      const item = e.items[i];
      const env: ParsedEnvelope = {
        header: { ...e.header },
        items: e.items.map((it) => ({ ...it, header: { ...it.header } })),
      };
      if (kind === "envelope-header") {
        return mutated(e.header).map((h) =>
          joinEnvelope({ ...env, header: h as Record<string, unknown> }, lengths, crlf),
        );
      }
      if (kind === "item-header" && item) {
        return mutated(item.header).map((h) => {
          env.items[i] = { ...env.items[i]!, header: h as Record<string, unknown> };
          return joinEnvelope(env, lengths, crlf);
        });
      }
      if (kind === "payload" && item) {
        const parsed = jsonOf(item.payload);
        if (parsed !== null) {
          return serialized(mutated(parsed)).map((p) => {
            const { length: _length, ...header } = item.header;
            env.items[i] = { header, payload: typeof p === "string" ? enc.encode(p) : p };
            return joinEnvelope(env, lengths, crlf);
          });
        }
      }
      if (item) {
        if (kind === "type") env.items[i]!.header.type = type;
        if (kind === "length") env.items[i]!.header.length = length;
        if (kind === "bytes") {
          const { length: _length, ...header } = item.header;
          env.items[i] = { header, payload: bytes };
        }
        if (kind === "duplicate") env.items = Array(copies).fill(item);
      }
      return fc.constant(joinEnvelope(env, lengths, crlf));
    });
  const damaged = fc
    .tuple(base, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.boolean())
    .map(([e, at, bad, cut]) => {
      const b = joinEnvelope(e, false, false);
      const i = at % b.length;
      return cut ? b.subarray(0, i) : new Uint8Array([...b.subarray(0, i), ...bad, ...b.subarray(i)]);
    });
  return fc.oneof(
    { weight: 8, arbitrary: structured },
    { weight: 2, arbitrary: damaged },
    { weight: 2, arbitrary: junk },
  );
}

export function storeBody(bases: ParsedEnvelope[]): fc.Arbitrary<Body> {
  const events = bases.flatMap((e) =>
    e.items.filter((it) => it.header.type === "event").map((it) => jsonOf(it.payload)),
  );
  const event = fc.constantFrom(...events).chain((ev) => mutated(ev));
  const legacy = serialized(event).map((b) => {
    // Very old SDKs: base64(zlib(json)); sent as a plain base64 string (valid or not).
    const bytes = typeof b === "string" ? enc.encode(b) : b;
    return btoa(String.fromCharCode(...bytes.subarray(0, 3000)));
  });
  return fc.oneof(
    { weight: 8, arbitrary: serialized(event) },
    { weight: 1, arbitrary: legacy },
    { weight: 3, arbitrary: junk },
  );
}

/** Sentry credentials in its four carriers, plus conflicts, foreign keys and garbage. */
export function sentryAuth(
  key: string,
  projectId: string,
  otherKey: string,
  otherId: string,
): fc.Arbitrary<Credentials> {
  const q = (s: string, path = projectId): Credentials => ({ path, query: s, headers: [] });
  const h = (name: string, v: string, path = projectId): Credentials => ({
    path,
    query: "",
    headers: [[name, v]],
  });
  const authHeader = (k: string) => `Sentry sentry_key=${k}, sentry_version=7, sentry_client=fuzz/1.0`;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(q(`sentry_version=7&sentry_key=${key}&sentry_client=fuzz%2F1.0`)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        h("x-sentry-auth", authHeader(key)),
        h("authorization", authHeader(key)),
        h("authorization", `Basic ${btoa(`${key}:`)}`),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        q(`sentry_key=${key}`, otherId),
        q(`sentry_key=${otherKey}`),
        q(`sentry_key=${otherKey}`, otherId),
        q(`sentry_key=${key}`, "999999"),
        q(`sentry_key=${key}`, "99999999999999999999999"),
        q(`sentry_key=${key}`, "0"),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(q(`sentry_key=${key}&sentry_key=${otherKey}`), {
        path: projectId,
        query: `sentry_key=${key}`,
        headers: [["x-sentry-auth", authHeader(otherKey)]],
      } as Credentials),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        q(`sentry_key=${key.toUpperCase()}`),
        q(`sentry_key=${key}.flags`),
        q(`sentry_key=${key.slice(2)}`),
        q(`sentry_key=${"é".repeat(32)}`),
        q(`sentry_key=${"f".repeat(32)}`),
        q(""),
      ),
    },
    { weight: 1, arbitrary: unknownKey.map((k) => q(`sentry_key=${k}&sentry_version=7`)) },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "grapheme-ascii", maxLength: 20 })
        .map((v) => q(`sentry_key=${key}&sentry_version=${encodeURIComponent(v)}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: "grapheme-ascii", maxLength: 300 })
        .map((v) => h("x-sentry-auth", `Sentry ${v}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 100, max: 60_000 })
        .map((n) => h("x-sentry-auth", `Sentry sentry_key=${"k".repeat(n)}`)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        h("authorization", "Basic !!!"),
        h("authorization", "Basic "),
        h("authorization", `Bearer ${key}`),
        h("x-sentry-auth", "Sentry ,,,,=,=,"),
      ),
    },
  );
}

// ---------------------------------------------------------------- transport

/** A real encoding ("gzip", "br", ...), or "as-<name>": the header says it, the bytes are not. */
export type Encoding =
  | "none"
  | "gzip"
  | "deflate"
  | "br"
  | "zstd"
  | "as-gzip"
  | "as-deflate"
  | "as-br"
  | "as-zstd"
  | "identity"
  | "odd";
export const encodings: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>("none") },
  { weight: 2, arbitrary: fc.constantFrom<Encoding>("gzip", "br") },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Encoding>(
      "deflate",
      "zstd",
      "as-gzip",
      "as-deflate",
      "as-br",
      "as-zstd",
      "identity",
      "odd",
    ),
  },
);
export const contentTypes = fc.constantFrom(
  undefined,
  "application/json",
  "text/plain;charset=UTF-8",
  "application/x-sentry-envelope",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
);

/** Applies a Content-Encoding to a body (compressing for real, or lying about it). */
export async function encodeBody(body: Body, encoding: Encoding): Promise<{ body: Body; header?: string }> {
  switch (encoding) {
    case "none":
      return { body };
    case "gzip":
    case "deflate":
    case "br":
    case "zstd":
      return { body: await compress(body, encoding), header: encoding };
    case "as-gzip":
    case "as-deflate":
    case "as-br":
    case "as-zstd":
      return { body, header: encoding.slice(3) };
    case "identity":
      return { body, header: "identity" };
    case "odd":
      return { body, header: " GZIP, gzip" };
  }
}
