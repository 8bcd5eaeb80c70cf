import { describe, expect, it } from "vitest";
import { ClientError } from "../http/errors";
import { extractAuth, parseAuthHeader, parseDsn } from "./auth";
import { fixtures } from "./fixtures";

const KEY = "e12d836b15bb49d7bbf99e64295d995b";
const OTHER = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

function failure(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return { status: (e as ClientError).status, message: (e as ClientError).message };
  }
  throw new Error("expected a ClientError");
}

describe("extractAuth", () => {
  it("reads the JS SDK's query-string auth (real request URL)", () => {
    const url = new URL(fixtures["node-exception"].url, "http://127.0.0.1");
    const auth = extractAuth({ query: url.search, headers: fixtures["node-exception"].headers });
    expect(auth).toEqual({ publicKey: KEY, version: 7, client: "sentry.javascript.node/11.12.0" });
  });

  it("reads the Python SDK's X-Sentry-Auth header (real request)", () => {
    const auth = extractAuth({ query: "", headers: new Headers(fixtures["python-exception"].headers) });
    expect(auth).toMatchObject({ publicKey: KEY, version: 7, client: "sentry.python/2.75.0" });
  });

  it("reads Authorization: Sentry ..., case-insensitively", () => {
    const auth = extractAuth({ headers: { Authorization: `SENTRY sentry_version=7, sentry_key=${KEY}` } });
    expect(auth.publicKey).toBe(KEY);
  });

  it("ignores the query unless it contains sentry_, and non-Sentry Authorization schemes", () => {
    expect(failure(() => extractAuth({ query: "foo=1", headers: { authorization: "Bearer x" } }))).toEqual({
      status: 401,
      message: "missing authorization information",
    });
  });

  it("falls back to User-Agent for the client", () => {
    const auth = extractAuth({ query: `sentry_key=${KEY}`, headers: { "user-agent": "curl/8" } });
    expect(auth.client).toBe("curl/8");
  });

  it("uses the envelope dsn when no request carrier is present", () => {
    const auth = extractAuth({ envelopeDsn: `https://${KEY}@o1.ingest.example.com/sentry/42` });
    expect(auth).toEqual({ publicKey: KEY, projectIdFromDsn: "42" });
  });

  it("rejects two carriers with different keys (401) and tolerates agreeing ones", () => {
    expect(
      failure(() =>
        extractAuth({
          query: `sentry_key=${KEY}`,
          headers: { "x-sentry-auth": `Sentry sentry_key=${OTHER}` },
        }),
      ),
    ).toEqual({ status: 401, message: "multiple authorization payloads detected" });
    expect(
      failure(() =>
        extractAuth({
          headers: {
            "x-sentry-auth": `Sentry sentry_key=${KEY}`,
            authorization: `Sentry sentry_key=${OTHER}`,
          },
        }),
      ).status,
    ).toBe(401);
    const same = extractAuth({
      query: `sentry_key=${KEY}`,
      headers: { "x-sentry-auth": `Sentry sentry_key=${KEY}` },
    });
    expect(same.publicKey).toBe(KEY);
  });

  it("rejects an envelope dsn that disagrees with the request (400) or is malformed (401)", () => {
    expect(
      failure(() => extractAuth({ query: `sentry_key=${KEY}`, envelopeDsn: `http://${OTHER}@h/1` })).status,
    ).toBe(400);
    expect(failure(() => extractAuth({ envelopeDsn: "not a dsn" })).status).toBe(401);
    const wrongProject = failure(() =>
      extractAuth({ envelopeDsn: `http://${KEY}@h/2`, routeProjectId: "1" }),
    );
    expect(wrongProject.status).toBe(400);
    expect(extractAuth({ envelopeDsn: `http://${KEY}@h/1`, routeProjectId: "1" }).publicKey).toBe(KEY);
  });

  it("answers 401 for no auth and for a malformed header", () => {
    expect(failure(() => extractAuth({})).message).toBe("missing authorization information");
    expect(failure(() => extractAuth({ headers: { "x-sentry-auth": "Sentry sentry_version=7" } }))).toEqual({
      status: 401,
      message: "bad x-sentry-auth header",
    });
    expect(failure(() => extractAuth({ query: "sentry_version=7" })).status).toBe(401);
    expect(failure(() => extractAuth({ query: `sentry_key=${KEY}&sentry_version=abc` })).status).toBe(401);
  });

  it("answers 400 for a key that is not 32 characters and for protocol versions above 8", () => {
    expect(failure(() => extractAuth({ query: "sentry_key=public" }))).toEqual({
      status: 400,
      message: "bad sentry DSN public key",
    });
    expect(failure(() => extractAuth({ query: `sentry_key=${KEY}&sentry_version=9` })).message).toBe(
      "unsupported protocol version (9)",
    );
  });

  it("accepts HTTP basic auth with the key as user name, like Relay", () => {
    expect(extractAuth({ headers: { authorization: `Basic ${btoa(`${KEY}:`)}` } }).publicKey).toBe(KEY);
  });
});

describe("parseAuthHeader", () => {
  it("parses the documented syntax including secret and spaces", () => {
    expect(
      parseAuthHeader(
        `Sentry sentry_version=7,sentry_client=raven-python/6.0 ,  sentry_key=${KEY}, sentry_secret=s`,
      ),
    ).toEqual({ publicKey: KEY, version: 7, client: "raven-python/6.0" });
  });
});

describe("parseDsn", () => {
  it("parses key, secret, host, port, path prefix and project id", () => {
    expect(parseDsn(`http://${KEY}@127.0.0.1:8787/1`)).toEqual({
      scheme: "http",
      publicKey: KEY,
      secretKey: null,
      host: "127.0.0.1",
      port: 8787,
      path: "",
      projectId: "1",
    });
    expect(parseDsn(`https://${KEY}:sec@example.com/sentry/42`)).toMatchObject({
      secretKey: "sec",
      path: "/sentry",
      projectId: "42",
      port: null,
    });
  });
  it("rejects other schemes, a missing key or a missing project id", () => {
    expect(parseDsn(`ftp://${KEY}@h/1`)).toBeNull();
    expect(parseDsn("http://h/1")).toBeNull();
    expect(parseDsn(`http://${KEY}@h/`)).toBeNull();
    expect(parseDsn("junk")).toBeNull();
  });
});
