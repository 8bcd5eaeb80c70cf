// Runs toolchains.sh for the clients that are not npm packages. A toolchain missing on a developer's
// machine skips that client's test with the reason printed; in CI (.ci/run installs them all) it fails.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";

const script = join(import.meta.dirname, "toolchains.sh");

export type Toolchain = { command: string[] } | { missing: string };

export function prepareToolchain(name: "python" | "go" | "java"): Toolchain {
  const r = spawnSync("bash", [script, name], { encoding: "utf8", timeout: 590_000 });
  if (r.status === 3 && !process.env.CI) {
    const missing = r.stderr.trim().split("\n").at(-1) ?? name;
    console.warn(`compat: skipping the ${name} clients: ${missing}`);
    return { missing };
  }
  if (r.status !== 0) throw new Error(`toolchains.sh ${name} failed (${r.status}):\n${r.stderr}`);
  return { command: r.stdout.trim().split(" ") };
}

export function pinnedVersions(): Record<string, string> {
  return JSON.parse(execFileSync("bash", [script, "versions"], { encoding: "utf8" }));
}

/**
 * A minimal environment for client programs: SDKs report the process environment by default
 * (raygun4py), and neither the stored events nor the captured fixtures may carry this machine's.
 */
export function clientEnv(): NodeJS.ProcessEnv {
  const env: Record<string, string> = { LANG: "C.UTF-8" };
  for (const k of ["PATH", "HOME", "TMPDIR", "JAVA_HOME"]) if (process.env[k]) env[k] = process.env[k]!;
  // The workers' generated Env types widen the global ProcessEnv with their bindings as required keys.
  return env as NodeJS.ProcessEnv;
}

/** Runs a client program and returns its stdout (JSON); its stderr goes into the error when it fails. */
export function runClient(command: string[], args: string[]): string {
  const r = spawnSync(command[0]!, [...command.slice(1), ...args], {
    encoding: "utf8",
    timeout: 90_000,
    env: clientEnv(),
  });
  if (r.status !== 0) throw new Error(`${command.join(" ")} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
