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
