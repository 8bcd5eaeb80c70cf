import { describe, expect, it } from "vitest";
import type { CanonicalEvent } from "../event";
import { FILTERED, MAX_DEPTH, type ScrubOptions, scrubCanonicalEvent, scrubJson, TOO_DEEP } from "./scrub";

const DEFAULTS: ScrubOptions = { defaults: true, scrubIpAddresses: false, sensitiveFields: [] };
const scrub = (v: unknown, o: Partial<ScrubOptions> = {}) => scrubJson(v, { ...DEFAULTS, ...o });
// biome-ignore lint/suspicious/noExplicitAny: tests poke into arbitrary JSON
type AnyJson = any;

describe("scrubJson: key rules", () => {
  it("filters a password in a Raygun form field, leaving the rest by reference", () => {
    const env = { processorCount: 4, osVersion: "10" };
    const report = {
      OccurredOn: "2024-01-01T00:00:00Z",
      Details: {
        Environment: env,
        User: { Identifier: "u1", IsAnonymous: true },
        Request: { Url: "https://x.com/login", Form: { username: "ann", password: "hunter2" } },
      },
    };
    const { value, changed } = scrub(report);
    const v = value as AnyJson;
    expect(changed).toBe(true);
    expect(v.Details.Request.Form).toEqual({ username: "ann", password: FILTERED });
    expect(v.Details.Environment).toBe(env); // untouched subtree not copied
    expect(v.Details.User).toEqual({ Identifier: "u1", IsAnonymous: true });
    expect(report.Details.Request.Form.password).toBe("hunter2"); // input not mutated
  });

  it("filters Sentry request.data as an object, a urlencoded string and a JSON string", () => {
    const obj = scrub({ request: { data: { user: "a", password: "b" } } }).value as AnyJson;
    expect(obj.request.data).toEqual({ user: "a", password: FILTERED });
    const form = scrub({ request: { data: "user=a&password=b" } }).value as AnyJson;
    expect(form.request.data).toBe(`user=a&password=${FILTERED}`);
    const json = scrub({ request: { data: '{"user":"a","password":"b"}' } }).value as AnyJson;
    expect(JSON.parse(json.request.data)).toEqual({ user: "a", password: FILTERED });
  });

  it("scrubs JSON inside strings whatever its first token, and bracketed text by the string rules", () => {
    const docs = [
      '{ "password": "b" }',
      '[\n {"password":"b"}]',
      '[["password", "b"]]',
      '[-1, {"password":"b"}]',
      '[true, {"password":"b"}]',
      '[null, {"password":"b"}]',
      '[0, {"password":"b"}]',
    ];
    for (const doc of docs) {
      const v = scrub({ data: doc }).value as AnyJson;
      expect(v.data, doc).toContain(FILTERED);
      expect(JSON.parse(v.data), doc).toEqual(JSON.parse(doc.replace('"b"', `"${FILTERED}"`)));
    }
    for (const text of ["[anonymous]", "[INFO] login password=hunter2", "{user} token=abcdef"]) {
      const v = scrub({ message: text }).value as AnyJson;
      expect(v.message).toBe(text.replace(/=\w+/, `=${FILTERED}`));
    }
  });

  it("filters Authorization, Cookie and Set-Cookie headers as maps and as pair lists", () => {
    const map = scrub({
      request: {
        headers: {
          Authorization: "Bearer abcdefgh12345",
          Cookie: "sid=1",
          "Set-Cookie": "a=b",
          Accept: "*/*",
        },
        cookies: { sessionid: "x" },
      },
    }).value as AnyJson;
    expect(map.request.headers).toEqual({
      Authorization: FILTERED,
      Cookie: FILTERED,
      "Set-Cookie": FILTERED,
      Accept: "*/*",
    });
    expect(map.request.cookies).toBe(FILTERED);
    const pairs = scrub({
      request: {
        headers: [
          ["authorization", "Basic dXNlcjpwYXNz"],
          ["Host", "x.com"],
        ],
      },
    }).value as AnyJson;
    expect(pairs.request.headers).toEqual([
      ["authorization", FILTERED],
      ["Host", "x.com"],
    ]);
  });

  it("filters {name, value} records (Raygun .NET cookies)", () => {
    const v = scrub({
      list: [
        { Name: "api_key", Value: "k" },
        { Name: "theme", Value: "dark" },
      ],
    }).value as AnyJson;
    expect(v.list).toEqual([
      { Name: "api_key", Value: FILTERED },
      { Name: "theme", Value: "dark" },
    ]);
  });

  it("classifies long names (not cached) the same, every time", () => {
    const long = `${"x".repeat(300)}_password`;
    for (let i = 0; i < 2; i++) {
      const v = scrub({ pairs: [[long, "p"]], records: [{ key: long, value: "p" }], map: { [long]: "p" } })
        .value as AnyJson;
      expect(v).toEqual({
        pairs: [[long, FILTERED]],
        records: [{ key: long, value: FILTERED }],
        map: { [long]: FILTERED },
      });
    }
  });

  it("covers Relay's key list and keeps structural keys", () => {
    const keys = [
      "secret",
      "passwd",
      "api_key",
      "apiKey",
      "access_token",
      "auth",
      "credentials",
      "mysql_pwd",
    ];
    const more = ["stripeToken", "privateKey", "private_key", "x-csrf-token", "otp", "session"];
    const sensitive = Object.fromEntries([...keys, ...more].map((k) => [k, "v"]));
    const v = scrub(sensitive).value as AnyJson;
    for (const k of [...keys, ...more]) expect(v[k], k).toBe(FILTERED);
    const structural = {
      sessionId: "0123456789abcdef0123456789abcdef",
      isAnonymous: true,
      aggregates: [{ started: "2024-01-01T00:00:00Z", exited: 3 }],
      usage: { input_tokens: 12 },
      sid: "abc",
      status: "ok",
    };
    expect(scrub(structural)).toEqual({ value: structural, changed: false });
  });

  it("adds sensitiveFields as case-insensitive substrings", () => {
    const v = scrub({ extra: { CustomerSSN: "123", plain: "x" } }, { sensitiveFields: ["ssn"] })
      .value as AnyJson;
    expect(v.extra).toEqual({ CustomerSSN: FILTERED, plain: "x" });
    const q = scrub({ url: "https://x.com/?ssn=1&a=2" }, { defaults: false, sensitiveFields: ["SSN"] });
    expect((q.value as AnyJson).url).toBe(`https://x.com/?ssn=${FILTERED}&a=2`);
    expect(scrub({ password: "x" }, { defaults: false }).changed).toBe(false);
  });

  it("applies each item's own settings when every item brings a fresh copy of them", () => {
    const payload = { x: { ssn: "1", note: "2", "a,b": "3" } };
    const fresh = (fields: string[]) => JSON.parse(JSON.stringify({ ...DEFAULTS, sensitiveFields: fields }));
    for (let round = 0; round < 2; round++) {
      expect((scrubJson(payload, fresh(["ssn"])).value as AnyJson).x).toEqual({
        ssn: FILTERED,
        note: "2",
        "a,b": "3",
      });
      expect((scrubJson(payload, fresh(["note"])).value as AnyJson).x).toEqual({
        ssn: "1",
        note: FILTERED,
        "a,b": "3",
      });
      expect((scrubJson(payload, fresh(["a,b"])).value as AnyJson).x).toEqual({
        ssn: "1",
        note: "2",
        "a,b": FILTERED,
      });
      expect((scrubJson(payload, fresh(["a", "b"])).value as AnyJson).x).toEqual({
        ssn: "1",
        note: "2",
        "a,b": FILTERED,
      });
      expect(scrubJson(payload, { ...fresh([]), defaults: false }).changed).toBe(false);
    }
  });
});

describe("scrubJson: string rules", () => {
  it("filters Luhn-valid card numbers inside messages only", () => {
    const v = scrub({
      message: "charge failed for 4111 1111 1111 1111 (retry)",
      amex: "card 3782-822463-10005",
      notCard: "order 4111 1111 1111 1112",
      timestamp: "1700000000000",
    }).value as AnyJson;
    expect(v.message).toBe(`charge failed for ${FILTERED} (retry)`);
    expect(v.amex).toBe(`card ${FILTERED}`);
    expect(v.notCard).toBe("order 4111 1111 1111 1112");
    expect(v.timestamp).toBe("1700000000000");
  });

  it("filters bearer tokens and real basic credentials in free text", () => {
    const v = scrub({
      a: "sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc to upstream",
      b: "header was Basic dXNlcjpwYXNz",
      c: "Basic usage of the API",
    }).value as AnyJson;
    expect(v.a).toBe(`sent Bearer ${FILTERED} to upstream`);
    expect(v.b).toBe(`header was Basic ${FILTERED}`);
    expect(v.c).toBe("Basic usage of the API");
  });

  it("filters URL credentials in a breadcrumb URL", () => {
    const crumbs = {
      breadcrumbs: {
        values: [
          { category: "fetch", data: { url: "https://bob:s3cret@api.example.com/v1?x=1" } },
          { category: "db", message: "connect postgres://:pw@db:5432/app" },
          { category: "git", message: "clone ssh://git@github.com/a/b" },
        ],
      },
    };
    const v = scrub(crumbs).value as AnyJson;
    expect(v.breadcrumbs.values[0].data.url).toBe(`https://${FILTERED}:${FILTERED}@api.example.com/v1?x=1`);
    expect(v.breadcrumbs.values[1].message).toBe(`connect postgres://:${FILTERED}@db:5432/app`);
    expect(v.breadcrumbs.values[2]).toBe(crumbs.breadcrumbs.values[2]);
  });

  it("filters PEM private keys and sensitive query parameters", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
    const v = scrub({ x: `key: ${pem}`, url: "https://x.com/cb?code=1&access_token=abc#h" }).value as AnyJson;
    expect(v.x).toBe(`key: -----BEGIN RSA PRIVATE KEY-----\n${FILTERED}\n-----END RSA PRIVATE KEY-----`);
    expect(v.url).toBe(`https://x.com/cb?code=1&access_token=${FILTERED}#h`);
  });

  it("is idempotent", () => {
    const once = scrub({ a: "Bearer abcdefghijk", b: "u=1&password=2", c: "https://a:b@h" }).value;
    expect(scrub(once)).toEqual({ value: once, changed: false });
  });
});

describe("scrubJson: IP addresses", () => {
  it("removes known IP fields only when asked", () => {
    const event = {
      user: { id: "1", ip_address: "1.2.3.4" },
      request: {
        env: { REMOTE_ADDR: "1.2.3.4", SERVER_NAME: "x" },
        headers: { "X-Forwarded-For": "1.2.3.4", "X-Real-IP": "1.2.3.4", Host: "x.com" },
      },
      details: { request: { iPAddress: "5.6.7.8", ipAddress: "5.6.7.8", url: "/" } },
    };
    expect(scrub(event).changed).toBe(false);
    const v = scrub(event, { scrubIpAddresses: true }).value as AnyJson;
    expect(v.user).toEqual({ id: "1" });
    expect(v.request.env).toEqual({ SERVER_NAME: "x" });
    expect(v.request.headers).toEqual({ Host: "x.com" });
    expect(v.details.request).toEqual({ url: "/" });
    const pairs = scrub(
      {
        headers: [
          ["X-Forwarded-For", "1.2.3.4"],
          ["Accept", "*/*"],
        ],
      },
      { scrubIpAddresses: true },
    );
    expect((pairs.value as AnyJson).headers).toEqual([["Accept", "*/*"]]);
  });
});

describe("scrubJson: robustness", () => {
  it("survives 10,000 levels of nesting and caps the depth", () => {
    let deep: unknown = { password: "x" };
    for (let i = 0; i < 10_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const { value, changed } = scrub(deep);
    expect(changed).toBe(true);
    let cur: AnyJson = value;
    let depth = 0;
    while (typeof cur === "object") {
      cur = Array.isArray(cur) ? cur[0] : cur.a;
      depth++;
    }
    expect(cur).toBe(TOO_DEEP);
    expect(depth).toBe(MAX_DEPTH);
    const parsed = JSON.parse(`${"[".repeat(10_000)}1${"]".repeat(10_000)}`);
    expect(() => JSON.stringify(scrub(parsed).value)).not.toThrow();
  });

  it("caps the depth with every rule off too: normalization stringifies subtrees", () => {
    const off: ScrubOptions = { defaults: false, scrubIpAddresses: false, sensitiveFields: [] };
    const parsed = JSON.parse(`{"h":${"[".repeat(60_000)}1${"]".repeat(60_000)},"ok":{"a":[1]}}`);
    const { value, changed } = scrubJson(parsed, off);
    expect(changed).toBe(true);
    expect(() => JSON.stringify(value)).not.toThrow();
    expect((value as AnyJson).ok).toBe(parsed.ok); // untouched subtrees by reference
    let cur: AnyJson = (value as AnyJson).h;
    let depth = 1;
    while (Array.isArray(cur)) {
      cur = cur[0];
      depth++;
    }
    expect(cur).toBe(TOO_DEEP);
    expect(depth).toBe(MAX_DEPTH);
    const shallow = { a: { b: [1, { c: 2 }] } };
    expect(scrubJson(shallow, off)).toEqual({ value: shallow, changed: false });
    const proto = JSON.parse(`{"__proto__": ${"[".repeat(100)}${"]".repeat(100)}}`);
    const cut = scrubJson(proto, off).value as AnyJson;
    expect(Object.getPrototypeOf(cut)).toBe(Object.prototype);
    expect(Object.hasOwn(cut, "__proto__")).toBe(true);
  });

  it("never throws on odd input", () => {
    for (const v of [undefined, null, 1, "s", true, [], {}, Number.NaN]) {
      expect(scrub(v)).toEqual({ value: v, changed: false });
    }
    const hostile = {
      get boom(): string {
        throw new Error("getter");
      },
    };
    expect(() => scrub(hostile)).not.toThrow();
    const proto = JSON.parse('{"__proto__": {"password": "x"}}');
    const v = scrub(proto).value as AnyJson;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toEqual({ password: FILTERED });
  });

  it("is fast on a typical 5 KB payload", () => {
    const frames = Array.from({ length: 40 }, (_, i) => ({
      filename: `app/module${i}.js`,
      function: `fn${i}`,
      lineno: i,
      colno: 3,
      in_app: true,
    }));
    const event = {
      event_id: "0123456789abcdef0123456789abcdef",
      exception: { values: [{ type: "TypeError", value: "x is undefined", stacktrace: { frames } }] },
      request: { url: "https://x.com/a?b=1", headers: { "User-Agent": "Mozilla/5.0", Cookie: "a=b" } },
      breadcrumbs: { values: frames.map((f) => ({ message: `clicked ${f.function}`, category: "ui" })) },
    };
    const t0 = performance.now();
    for (let i = 0; i < 2_000; i++) scrub(event);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("scrubCanonicalEvent", () => {
  const event = {
    eventId: "e",
    projectId: "p",
    message: "card 4111111111111111",
    user: { id: "1", ipAddress: "9.9.9.9" },
    client: { ip: "9.9.9.9", userAgent: "UA", country: "NZ", colo: "AKL" },
    tags: {},
  } as unknown as CanonicalEvent;

  it("applies the same rules and clears the client IP when asked", () => {
    const r = scrubCanonicalEvent(event, { ...DEFAULTS, scrubIpAddresses: true });
    expect(r.changed).toBe(true);
    expect(r.value.message).toBe(`card ${FILTERED}`);
    expect(r.value.client).toEqual({ ip: null, userAgent: "UA", country: "NZ", colo: "AKL" });
    expect(r.value.user).toEqual({ id: "1" });
    expect(event.client.ip).toBe("9.9.9.9");
  });
  it("returns the same object when clean", () => {
    const clean = { ...event, message: "fine" } as CanonicalEvent;
    expect(scrubCanonicalEvent(clean, DEFAULTS)).toEqual({ value: clean, changed: false });
  });
});
