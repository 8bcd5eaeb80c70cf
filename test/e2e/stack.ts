// Starts the whole local stack (`node scripts/start.mjs`: every worker in one wrangler dev) on a
// free port with its own state directory, and returns its URL, admin token and demo project.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StackInfo {
  url: string;
  adminToken: string;
  project: { id: string; key: string; dsn: string; name: string };
}

export interface RunningStack extends StackInfo {
  stop(): Promise<void>;
  logs(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** A port taken between freePort's close and wrangler's listen: the one failure worth a retry. */
const PORT_TAKEN = /Address already in use|EADDRINUSE/;

/**
 * Starts a stack on a free port. freePort closes its probe before wrangler listens, so another
 * process on the machine can take the port in between; that (and only that) is retried on a
 * fresh port.
 */
export async function startStack(env: Record<string, string> = {}): Promise<RunningStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(env);
    } catch (err) {
      if (attempt >= 3 || !PORT_TAKEN.test(String((err as Error).message))) throw err;
    }
  }
}

async function startStackOnce(env: Record<string, string>): Promise<RunningStack> {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: join(import.meta.dirname, "..", ".."),
    env: {
      ...process.env,
      PORT: String(port),
      SLUICE_STATE_DIR: state,
      ADMIN_TOKEN: "e2e-admin-token",
      SLUICE_LOG_LEVEL: process.env.SLUICE_E2E_LOG_LEVEL ?? "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise<StackInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start within 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /SLUICE_READY (\{.*\})/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!) as StackInfo);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before it was ready:\n${output}`));
    });
  });
  let info: StackInfo;
  try {
    info = await ready;
  } catch (err) {
    // Nothing of a failed start outlives it: a retry starts clean.
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(state, { recursive: true, force: true });
    throw err;
  }
  return {
    ...info,
    logs: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}
