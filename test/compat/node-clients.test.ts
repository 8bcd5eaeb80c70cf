// The JavaScript SDKs that run in Node, as plain Node programs (clients/node): @sentry/node and
// raygun4node (npm `raygun`), both the repo's pinned devDependencies. Each runs scenario.ts.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createProject, stack } from "../e2e/client";
import { recordResult } from "./matrix";
import { outcomes, verifyScenario } from "./scenario";
import { clientEnv } from "./toolchain";

const clients = join(import.meta.dirname, "clients", "node");
const require = createRequire(import.meta.url);
const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;

function node(script: string, args: string[]): string {
  return execFileSync(process.execPath, [join(clients, script), ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: clientEnv(),
  });
}

const common = {
  raisingFunction: "parsePort",
  callerFunction: "loadConfig",
  otherFunction: "divide",
  messageContains: "invalid port",
  user: { id: "u-42", email: "ada@example.com" },
  release: "compat@1.2.3",
  breadcrumb: "loading config",
};

describe("JavaScript SDKs in Node", () => {
  it("@sentry/node", async () => {
    const project = await createProject("compat-sentry-node");
    const out = JSON.parse(node("sentry-node.mjs", [project.dsn])) as { errors: string[] };
    expect(out.errors).toHaveLength(2);
    const verified = await verifyScenario({
      projectId: project.id,
      ...common,
      errorType: "RangeError",
      otherType: "TypeError",
      message: "compat message",
      tags: { feature: "checkout" },
      environment: "compat",
      fixture: "shared/sentry/fixtures/compat/sentry-node.json",
    });
    const { accepted, dropped } = await outcomes(project.id);
    expect(dropped).toEqual([]);
    // v11 streams spans by default; classic transactions would count as "transaction".
    const tracing = accepted.transaction ? "transaction" : "spans";
    expect(accepted.transaction ?? accepted.span).toBeGreaterThanOrEqual(1);
    recordResult({
      slug: "sentry-node",
      sdk: "`@sentry/node`",
      protocol: "Sentry",
      version: version("@sentry/node"),
      verified: [...verified, tracing],
      notSupported: [],
      accepted: Object.keys(accepted),
    });
  });

  it("raygun4node (npm `raygun`)", async () => {
    const project = await createProject("compat-raygun-node");
    const out = JSON.parse(node("raygun-node.mjs", [stack().url, project.key])) as { statuses: number[] };
    expect(out.statuses).toEqual([202, 202, 202]);
    const verified = await verifyScenario({
      projectId: project.id,
      ...common,
      errorType: "RangeError",
      otherType: "TypeError",
      tags: { checkout: "true" },
      environment: null,
      fixture: "shared/raygun/fixtures/compat/raygun4node.json",
    });
    const { accepted, dropped } = await outcomes(project.id);
    expect(dropped).toEqual([]);
    recordResult({
      slug: "raygun-node",
      sdk: "raygun4node (npm `raygun`)",
      protocol: "Raygun",
      version: version("raygun"),
      verified,
      notSupported: ["environment and messages: not part of the Raygun crash-report protocol"],
      accepted: Object.keys(accepted),
    });
  });
});
