// Synthetic but realistic payloads, built from the captured SDK fixtures: Raygun node and
// raygun4js-shaped crash reports padded with the kind of custom data real apps attach, raygun4js
// RUM page-view batches, and the captured Sentry envelopes (node, python) with fresh event ids.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./build.mjs";

const FIX = join(ROOT, "workers/edge/raygun/fixtures");
const NODE_REPORT = JSON.parse(readFileSync(join(FIX, "raygun4node-2.2.8-error.json"), "utf8"));
const JS_REPORT = JSON.parse(readFileSync(join(FIX, "raygun4js-shaped-pascalcase.json"), "utf8"));

/** Deterministic PRNG (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf(s) sampler over ranks 0..n-1 (a few hot groups, a long tail). */
export function zipf(n, s, rand) {
  const w = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  const cdf = [];
  let acc = 0;
  for (const x of w) cdf.push((acc += x / total));
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Sizes 1–100 KB, log-normal-ish: median ~6 KB, ~10% above 30 KB, a few near 100 KB. */
export function sizeSampler(rand) {
  return () => {
    const u = rand() + rand() + rand() - 1.5; // ~N(0, 0.5)
    const kb = Math.exp(Math.log(6) + u * 2.2);
    return Math.round(Math.min(95, Math.max(1, kb)) * 1024);
  };
}

const MODULES = ["checkout", "cart", "payments", "inventory", "search", "auth", "orders", "shipping"];
const VERBS = ["load", "compute", "apply", "render", "fetch", "validate", "resolve", "sync"];
const NOUNS = ["Total", "Discount", "Address", "Session", "Basket", "Token", "Invoice", "Stock"];
const CLASSES = ["TypeError", "RangeError", "Error", "ReferenceError", "SyntaxError", "FetchError"];

function groupShape(g) {
  const mod = MODULES[g % MODULES.length];
  const fn = `${VERBS[(g >> 3) % VERBS.length]}${NOUNS[(g >> 6) % NOUNS.length]}${g}`;
  return { mod, fn, cls: CLASSES[g % CLASSES.length] };
}

/** Realistic custom data (cart, feature flags, request context, log lines) grown to `bytes`. */
function customData(rand, bytes, seedId) {
  const data = {
    orderId: 4711 + seedId,
    tenant: `acme-${seedId % 97}`,
    featureFlags: { newCheckout: rand() < 0.5, taxV2: rand() < 0.3, darkMode: rand() < 0.2 },
    request: {
      method: "POST",
      path: `/api/orders/${seedId}/confirm`,
      headers: {
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0",
        "accept-language": "en-GB,en;q=0.9",
        "x-request-id": `req-${(seedId * 2654435761) >>> 0}`,
      },
    },
    cart: [],
    log: [],
  };
  let size = JSON.stringify(data).length;
  let i = 0;
  while (size < bytes) {
    if (i % 3 === 2) {
      const line = `${new Date(Date.now() - i * 137).toISOString()} INFO ${MODULES[i % MODULES.length]} step ${i} ok in ${Math.round(rand() * 90)}ms`;
      data.log.push(line);
      size += line.length + 3;
    } else {
      const item = {
        sku: `SKU-${Math.floor(rand() * 1e6)}`,
        name: `${NOUNS[i % NOUNS.length]} item ${i}`,
        qty: 1 + Math.floor(rand() * 4),
        unitPrice: Math.round(rand() * 10000) / 100,
        currency: "EUR",
      };
      data.cart.push(item);
      size += JSON.stringify(item).length + 1;
    }
    i++;
  }
  return data;
}

/** A raygun4node-shaped crash report of about `bytes` bytes in error group `g`. */
export function raygunNodeReport({ bytes = 5120, g = 0, id = 0, token = null, rand = rng(id + 1) }) {
  const r = structuredClone(NODE_REPORT);
  const { mod, fn, cls } = groupShape(g);
  r.occurredOn = new Date().toISOString();
  r.details.error.className = cls;
  r.details.error.message = `Cannot read properties of undefined (reading '${fn}') in order ${4711 + id}${token ? ` ${token}` : ""}`;
  r.details.error.stackTrace[0] = {
    lineNumber: 10 + (g % 300),
    className: mod,
    fileName: `/srv/app/src/${mod}/${fn}.js`,
    methodName: fn,
  };
  if (token) r.details.groupingKey = token;
  r.details.user.identifier = `user-${id % 5000}`;
  const base = JSON.stringify(r).length;
  r.details.userCustomData = customData(rand, Math.max(0, bytes - base - 20), id);
  return r;
}

/** A raygun4js-shaped (PascalCase) crash report of about `bytes` bytes in group `g`. */
export function raygunJsReport({ bytes = 3072, g = 0, id = 0, rand = rng(id + 7) }) {
  const r = structuredClone(JS_REPORT);
  const { mod, fn, cls } = groupShape(g);
  r.OccurredOn = new Date().toISOString();
  r.Details.Error.ClassName = cls;
  r.Details.Error.Message = `${fn} is not defined (${id})`;
  r.Details.Error.StackTrace[0].MethodName = fn;
  r.Details.Error.StackTrace[0].FileName = `https://shop.example/static/js/${mod}.5af331ad.min.js`;
  const base = JSON.stringify(r).length;
  r.Details.UserCustomData = customData(rand, Math.max(0, bytes - base - 20), id);
  return r;
}

const PAGES = ["/", "/cart", "/checkout", "/product/1", "/product/2", "/search", "/account", "/orders"];
/** A raygun4js RUM batch: one session's page views with timing data. */
export function rumBody({ items = 3, id = 0, rand = rng(id + 13) }) {
  const sessionId = `sess-${id}`;
  const eventData = [];
  for (let i = 0; i < items; i++) {
    const url = `https://shop.example${PAGES[Math.floor(rand() * PAGES.length)]}?ref=${id}`;
    const du = Math.round(200 + rand() * 2500);
    eventData.push({
      sessionId,
      timestamp: new Date().toISOString(),
      type: "web_request_timing",
      user: { isAnonymous: true, identifier: `anon-${id}`, uuid: `anon-${id}` },
      version: "2.8.0",
      device: "Desktop",
      os: "Linux",
      osVersion: "x86_64",
      platform: "Chrome",
      browser: "Chrome",
      browserVersion: "156.0",
      screenSize: "1920x1080",
      parentResource: { url, type: "p" },
      data: JSON.stringify([
        { url, timing: { t: "p", du, a: 1, b: 2, c: 3, d: 40, e: 90, f: 120, g: 150, h: du - 200 } },
        { url: "https://shop.example/static/js/app.js", timing: { t: "s", du: 40 } },
        { url: "https://shop.example/static/css/app.css", timing: { t: "s", du: 12 } },
      ]),
    });
  }
  return { eventData };
}

/** A captured Sentry envelope with fresh (same-length) event ids, so each send is a new event. */
export function sentryEnvelope(lib, name, rand) {
  const bytes = lib.fixtureBytes(name);
  let text = new TextDecoder().decode(bytes);
  const ids = new Set(text.match(/"event_id":"([0-9a-f]{32})"/g) ?? []);
  const fresh = Array.from({ length: 32 }, () => "0123456789abcdef"[Math.floor(rand() * 16)]).join("");
  for (const m of ids) text = text.split(m.slice(12, 44)).join(fresh);
  return {
    body: new TextEncoder().encode(text),
    url: lib.fixtures[name].url,
    headers: lib.fixtures[name].headers,
  };
}
