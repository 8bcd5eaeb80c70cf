// SDKs of other platforms, each from its own registry: Python `sentry-sdk` and raygun4py (PyPI),
// `sentry-go` (Go module proxy) and `sentry-java` (Maven Central), built and cached by
// toolchains.sh, run as real programs against the stack. Each runs the scenario in scenario.ts.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createProject, stack } from "../e2e/client";
import { recordResult } from "./matrix";
import { type Expectation, outcomes, verifyScenario } from "./scenario";
import { pinnedVersions, prepareToolchain, runClient } from "./toolchain";

const clients = join(import.meta.dirname, "clients");
const versions = pinnedVersions();

type Names = Pick<
  Expectation,
  | "errorType"
  | "raisingFunction"
  | "callerFunction"
  | "otherType"
  | "otherFunction"
  | "messageContains"
  | "fixture"
>;

function sentryExpectation(projectId: string, names: Names): Expectation {
  return {
    projectId,
    ...names,
    message: "compat message",
    user: { id: "u-42", email: "ada@example.com" },
    tags: { feature: "checkout" },
    release: "compat@1.2.3",
    environment: "compat",
    breadcrumb: "loading config",
  };
}

async function runSentryClient(
  slug: string,
  sdk: string,
  version: string,
  command: string[],
  args: (dsn: string) => string[],
  names: Names,
  notSupported: string[] = [],
) {
  const project = await createProject(`compat-${slug}`);
  runClient(command, args(project.dsn));
  const verified = await verifyScenario(sentryExpectation(project.id, names));
  const { accepted, dropped } = await outcomes(project.id);
  expect(dropped).toEqual([]);
  expect(accepted.error).toBeGreaterThanOrEqual(4);
  recordResult({
    slug,
    sdk,
    protocol: "Sentry",
    version,
    verified,
    notSupported,
    accepted: Object.keys(accepted),
  });
}

describe("SDKs outside JavaScript", () => {
  const python = prepareToolchain("python");
  it.skipIf("missing" in python)("Python sentry-sdk (gzip)", async () => {
    if (!("command" in python)) return;
    await runSentryClient(
      "sentry-python",
      "Python `sentry-sdk` (gzip; brotli: test/e2e/sentry-python.test.ts)",
      versions["sentry-sdk"]!,
      python.command,
      (dsn) => [join(clients, "python", "sentry_compat.py"), dsn],
      {
        errorType: "ValueError",
        raisingFunction: "parse_port",
        callerFunction: "load_config",
        otherType: "ZeroDivisionError",
        otherFunction: "divide",
        messageContains: "invalid port",
        fixture: "shared/sentry/fixtures/compat/sentry-python.json",
      },
    );
  });

  it.skipIf("missing" in python)("raygun4py", async () => {
    if (!("command" in python)) return;
    const project = await createProject("compat-raygun4py");
    const out = JSON.parse(
      runClient(python.command, [join(clients, "python", "raygun_compat.py"), stack().url, project.key]),
    ) as { statuses: number[] };
    expect(out.statuses).toEqual([202, 202, 202]);
    const verified = await verifyScenario({
      projectId: project.id,
      errorType: "ValueError",
      raisingFunction: "parse_port",
      callerFunction: "load_config",
      otherType: "ZeroDivisionError",
      otherFunction: "divide",
      messageContains: "invalid port",
      user: { id: "u-42", email: "ada@example.com" },
      tags: { checkout: "true" },
      release: "compat@1.2.3",
      environment: null,
      breadcrumb: null,
      fixture: "shared/raygun/fixtures/compat/raygun4py.json",
    });
    const { accepted, dropped } = await outcomes(project.id);
    expect(dropped).toEqual([]);
    recordResult({
      slug: "raygun-python",
      sdk: "raygun4py",
      protocol: "Raygun",
      version: versions.raygun4py!,
      verified,
      notSupported: [
        "breadcrumbs: raygun4py has no breadcrumb API",
        "environment and messages: not part of the Raygun crash-report protocol",
      ],
      accepted: Object.keys(accepted),
    });
  });

  const go = prepareToolchain("go");
  it.skipIf("missing" in go)("sentry-go", async () => {
    if (!("command" in go)) return;
    await runSentryClient("sentry-go", "`sentry-go`", versions["sentry-go"]!, go.command, (dsn) => [dsn], {
      errorType: "*main.portError",
      raisingFunction: "parsePort",
      callerFunction: "loadConfig",
      otherType: "runtime.errorString",
      otherFunction: "divide",
      messageContains: "invalid port",
      fixture: "shared/sentry/fixtures/compat/sentry-go.json",
    });
  });

  const java = prepareToolchain("java");
  it.skipIf("missing" in java)("sentry-java", async () => {
    if (!("command" in java)) return;
    await runSentryClient(
      "sentry-java",
      "`sentry-java` (io.sentry:sentry)",
      versions["sentry-java"]!,
      java.command,
      (dsn) => [dsn],
      {
        errorType: "NumberFormatException",
        raisingFunction: "parsePort",
        callerFunction: "loadConfig",
        otherType: "ArithmeticException",
        otherFunction: "divide",
        messageContains: "For input string",
        fixture: "shared/sentry/fixtures/compat/sentry-java.json",
      },
    );
  });
});
