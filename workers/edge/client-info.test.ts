// The client IP (issue #12.8): CF-Connecting-IP is the peer; X-Remote-Address and X-Forwarded-For
// count only when that peer is a trusted proxy (TRUSTED_PROXIES; the test worker trusts
// 198.51.100.0/24). Unit cases for the header rules, then the IP filter and the stored IP in workerd.
import { describe, expect, it } from "vitest";
import { api, call, createTestProject, type TestProject, waitFor } from "../../test/helpers";
import { clientIp, countryAndColo } from "./client-info";

const TRUSTED = { TRUSTED_PROXIES: "198.51.100.0/24, 2001:db8::/32" };
const ip = (headers: Record<string, string>, env = TRUSTED) => clientIp(new Headers(headers), env);

describe("clientIp", () => {
  it("ignores forwarding headers from an untrusted peer, and all of them without trusted proxies", () => {
    const forged = { "x-remote-address": "10.9.9.9", "x-forwarded-for": "10.8.8.8" };
    expect(ip({ "cf-connecting-ip": "203.0.113.7", ...forged })).toBe("203.0.113.7");
    expect(ip({ "cf-connecting-ip": "198.51.100.2", ...forged }, { TRUSTED_PROXIES: "" })).toBe(
      "198.51.100.2",
    );
    expect(ip(forged)).toBeNull(); // no peer known: nothing to believe
  });

  it("believes a trusted proxy: X-Remote-Address first, else the right-most untrusted X-Forwarded-For hop", () => {
    const peer = { "cf-connecting-ip": "198.51.100.2" };
    expect(ip({ ...peer, "x-remote-address": "192.0.2.44" })).toBe("192.0.2.44");
    expect(ip({ ...peer, "x-forwarded-for": "10.0.0.1, 192.0.2.9, 198.51.100.3" })).toBe("192.0.2.9");
    expect(ip({ "cf-connecting-ip": "2001:db8::5", "x-forwarded-for": "2001:db9::1" })).toBe("2001:db9::1");
    // Garbage is never stored: an invalid hop ends the walk at the last trusted one.
    expect(ip({ ...peer, "x-remote-address": "<script>", "x-forwarded-for": "nonsense" })).toBe(
      "198.51.100.2",
    );
    expect(ip({ ...peer, "x-forwarded-for": `${"1.1.1.1,".repeat(100_000)}192.0.2.1` })).toBe("192.0.2.1");
  });
});

describe("countryAndColo", () => {
  const request = (headers: Record<string, string>, cf?: unknown) => {
    const r = new Request("https://ingest.example/entries", { headers });
    Object.defineProperty(r, "cf", {
      get() {
        if (cf === "unread") throw new Error("request.cf was read");
        return cf;
      },
    });
    return r;
  };

  it("takes Cloudflare's CF-IPCountry and CF-Ray headers without reading request.cf", () => {
    const r = request({ "cf-ipcountry": "NZ", "cf-ray": "8e2c5b1c1f3a1234-AKL" }, "unread");
    expect(countryAndColo(r)).toEqual(["NZ", "AKL"]);
    expect(countryAndColo(request({ "cf-ipcountry": "T1", "cf-ray": "1-LHR" }, "unread"))).toEqual([
      "T1",
      "LHR",
    ]);
  });

  it("falls back to request.cf when a header is missing or malformed", () => {
    const cf = { country: "DE", colo: "FRA" };
    expect(countryAndColo(request({}, cf))).toEqual(["DE", "FRA"]);
    expect(countryAndColo(request({ "cf-ray": "8e2c5b1c1f3a1234-AKL" }, cf))).toEqual(["DE", "FRA"]);
    expect(countryAndColo(request({ "cf-ipcountry": "<b>", "cf-ray": "1-AKL" }, cf))).toEqual(["DE", "FRA"]);
    expect(countryAndColo(request({ "cf-ipcountry": "NZ", "cf-ray": "no colo" }, cf))).toEqual(["DE", "FRA"]);
    expect(countryAndColo(request({ "cf-ipcountry": "NZ", "cf-ray": `${"x".repeat(100)}-AKL` }, cf))).toEqual(
      ["DE", "FRA"],
    );
    expect(countryAndColo(request({}, undefined))).toEqual([null, null]);
    expect(countryAndColo(request({}, { country: 7 }))).toEqual([null, null]);
  });
});

function report(message: string) {
  return JSON.stringify({
    occurredOn: new Date().toISOString(),
    details: { error: { className: "Error", message, stackTrace: [] } },
  });
}

async function storedIp(p: TestProject, message: string): Promise<string | null> {
  const groups = await waitFor(async () => {
    const r = await api<{ groups: { id: string; message: string }[] }>(`/api/v1/projects/${p.id}/groups`);
    return r.body.groups.find((g) => g.message === message) ?? null;
  });
  const events = await api<{ events: { id: string }[] }>(
    `/api/v1/projects/${p.id}/groups/${groups.id}/events`,
  );
  const detail = await api<{ event: { client: { ip: string | null } } }>(
    `/api/v1/projects/${p.id}/events/${events.body.events[0]!.id}`,
  );
  return detail.body.event.client.ip;
}

describe("the IP filter and the stored IP", () => {
  it("a blocked client cannot dodge the IP filter with X-Remote-Address; a trusted proxy's header counts", async () => {
    const p = await createTestProject("client-ip");
    const r = await api(`/api/v1/projects/${p.id}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ filters: { ipAddresses: ["203.0.113.0/24"] } }),
    });
    expect(r.status).toBe(200);
    const send = (message: string, headers: Record<string, string>) =>
      call(`/entries?apikey=${p.key}`, { method: "POST", body: report(message), headers });
    // Blocked network, forged header: still filtered.
    expect(
      (await send("dodger", { "cf-connecting-ip": "203.0.113.7", "x-remote-address": "192.0.2.1" })).status,
    ).toBe(202);
    // An allowed client forging a blocked address is stored with its real address.
    expect(
      (await send("forger", { "cf-connecting-ip": "192.0.2.50", "x-remote-address": "203.0.113.8" })).status,
    ).toBe(202);
    // Through a trusted proxy, the forwarded client address is the one filtered on.
    expect(
      (await send("proxied", { "cf-connecting-ip": "198.51.100.9", "x-forwarded-for": "203.0.113.9" }))
        .status,
    ).toBe(202);
    expect(
      (await send("proxied ok", { "cf-connecting-ip": "198.51.100.9", "x-remote-address": "192.0.2.77" }))
        .status,
    ).toBe(202);
    const totals = await waitFor(async () => {
      const s = await api<{ totals: { outcome: string; reason: string; quantity: number }[] }>(
        `/api/v1/projects/${p.id}/stats`,
      );
      const n = s.body.totals.reduce((a, t) => a + t.quantity, 0);
      return n === 4 ? s.body.totals : null;
    });
    expect(totals).toContainEqual(
      expect.objectContaining({ outcome: "filtered", reason: "ip-address", quantity: 2 }),
    );
    expect(await storedIp(p, "forger")).toBe("192.0.2.50");
    expect(await storedIp(p, "proxied ok")).toBe("192.0.2.77");
  });
});
