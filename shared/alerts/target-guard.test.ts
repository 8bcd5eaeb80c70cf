import { describe, expect, it } from "vitest";
import { targetProblem } from "./target-guard";

const strict = { allowPrivate: false };

describe("alert target guard (SSRF)", () => {
  it.each([
    "http://127.0.0.1:9000/hook",
    "http://127.1/hook",
    "http://0x7f.0.0.1/hook",
    "http://2130706433/hook",
    "http://10.1.2.3/",
    "http://172.16.5.4/",
    "http://192.168.1.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::127.0.0.1]/",
    // IPv6 transition ranges that embed or translate to an IPv4 address (here loopback or private).
    "http://[::ffff:0:7f00:1]/", // SIIT IPv4-translated 127.0.0.1
    "http://[::ffff:0:a9fe:a9fe]/", // SIIT IPv4-translated 169.254.169.254
    "http://[2002:7f00:1::]/", // 6to4 of 127.0.0.1
    "http://[2002:a00:1::1]/", // 6to4 of 10.0.0.1
    "http://[64:ff9b::7f00:1]/", // well-known NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/", // well-known NAT64 of 169.254.169.254
    "http://[64:ff9b:1::a00:1]/", // local-use NAT64
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", // Teredo
    "http://[2001:2::1]/", // benchmarking
    "http://[3fff::1]/", // documentation
    "http://[fec0::1]/", // site-local
    "http://[feff::1]/", // site-local, end of the /10
    "http://192.88.99.1/", // 6to4 relay anycast
    "http://localhost:8080/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
  ])("refuses %s while private targets are not allowed", (url) => {
    expect(targetProblem(url, strict)).toMatch(/refused/);
  });

  it.each([
    "https://hooks.slack.com/services/T/B/X",
    "https://93.184.216.34/hook",
    "http://[2606:4700::1111]/x",
    "http://[2606:4700:4700::1001]/",
    "http://[2001:4860:4860::8888]/", // in 2000::/3 but outside Teredo's 2001::/32
    "http://[2001:1::1]/", // next to Teredo's 2001::/32
    "http://[2003::1]/", // next to 6to4's 2002::/16
    "http://[64:ff9b:2::1]/", // next to the local-use NAT64 /48
    "http://[::ffff:8.8.8.8]/", // IPv4-mapped public address
    "http://[fe00::1]/", // just below fe80::/10
    "http://192.88.98.1/",
    "http://192.88.100.1/",
  ])("accepts the public target %s", (url) => {
    expect(targetProblem(url, strict)).toBeNull();
  });

  it("allows private targets only with ALLOW_PRIVATE_ALERT_TARGETS", () => {
    expect(targetProblem("http://127.0.0.1:9000/hook", { allowPrivate: true })).toBeNull();
    expect(targetProblem("http://localhost/hook", { allowPrivate: true })).toBeNull();
  });

  it.each([
    ["ftp://example.com/x", /http or https/],
    ["file:///etc/passwd", /http or https/],
    ["javascript:alert(1)", /http or https/],
    ["not a url", /not a valid URL/],
    ["https://user:pass@example.com/", /credentials/],
  ])("refuses %s whatever the setting", (url, why) => {
    expect(targetProblem(url, strict)).toMatch(why);
    expect(targetProblem(url, { allowPrivate: true })).toMatch(why);
  });
});
