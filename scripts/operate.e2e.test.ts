// The operator's scripts without a Cloudflare account (CI has none): the provision and deploy dry
// runs print a complete plan (every resource the configs bind, migrations, secrets, each worker in
// dependency order) and the generated deploy configs bundle; a real run without a login explains
// how to log in; the test preflight lists everything missing at once.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

async function node(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: root,
      env: { ...process.env, CLOUDFLARE_API_TOKEN: "", ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every queue named in any worker config, found independently of the scripts' TOML parsing. */
function queuesInConfigs(): string[] {
  const files = [
    "wrangler.toml",
    ...readdirSync(join(root, "workers")).map((w) => `workers/${w}/wrangler.toml`),
  ];
  const names = new Set<string>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(join(root, f), "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\s*(?:queue|dead_letter_queue)\s*=\s*"([^"]+)"/gm)) names.add(m[1]!);
  }
  return [...names];
}

describe("provision and deploy", () => {
  it("provision --dry-run plans every resource, the migrations, the admin secret and a first project", async () => {
    const r = await node(["scripts/provision.mjs", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("$ wrangler d1 create sluice");
    expect(r.stdout).toContain("$ wrangler r2 bucket create sluice-blobs");
    const queues = queuesInConfigs();
    expect(queues).toEqual(expect.arrayContaining(["sluice-errors-0", "sluice-index", "sluice-dlq"]));
    for (const q of queues) expect(r.stdout).toContain(`$ wrangler queues create ${q}\n`);
    expect(r.stdout).toContain("$ wrangler d1 migrations apply sluice --remote");
    // Every metadata shard the workers bind is created and migrated like the control database.
    expect(r.stdout).toContain("$ wrangler d1 create sluice-meta-1");
    expect(r.stdout).toContain("$ wrangler d1 migrations apply sluice-meta-1 --remote");
    expect(r.stdout).toMatch(/\$ wrangler secret put ADMIN_TOKEN .*\(secret\)/);
    expect(r.stdout).toContain("INSERT INTO projects");
    expect(r.stdout).toContain("Next: npm run deploy");
  });

  it("deploy --dry-run migrates first, deploys in dependency order, and every generated config bundles", async () => {
    const r = await node(["scripts/deploy.mjs", "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    const order = ["workers/console", "workers/indexer", "workers/processor", "wrangler.deploy.toml"].map(
      (p) => r.stdout.indexOf(`$ wrangler deploy -c ${p}`),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.stdout.indexOf("migrations apply")).toBeLessThan(order[0]!);
    expect(r.stdout).toContain("every worker bundles with its generated deploy config");
    // The generated configs keep observability and source maps on.
    const edge = readFileSync(join(root, "wrangler.deploy.toml"), "utf8");
    expect(edge).toMatch(/\[observability\]\s*\nenabled = true/);
    expect(edge).toContain("upload_source_maps = true");
  });

  it("a real run without a Cloudflare login explains how to log in and changes nothing", async () => {
    const home = mkdtempSync(join(tmpdir(), "sluice-nologin-"));
    const r = await node(["scripts/provision.mjs"], { HOME: home, XDG_CONFIG_HOME: join(home, ".config") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("wrangler login");
    expect(r.stderr).toContain("CLOUDFLARE_API_TOKEN");
    const d = await node(["scripts/deploy.mjs"], { HOME: home, XDG_CONFIG_HOME: join(home, ".config") });
    expect(d.code).toBe(1);
  });
});

describe("D1 migrations", () => {
  it("agree with shared/db/schema.ts: db:generate on a clean tree writes nothing, and every file is journaled", async () => {
    const r = await node(["scripts/check-migrations.mjs"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("npm test preflight", () => {
  it("lists every missing prerequisite at once, with its install command, before running anything", async () => {
    // A PATH with node and a shell but no curl, python3 or java; ES_JAVA_HOME pointing nowhere.
    const bin = mkdtempSync(join(tmpdir(), "sluice-path-"));
    mkdirSync(join(bin, "b"));
    for (const tool of ["sh", "bash", "dirname", "readlink", "sed", "grep", "ls", "sort"]) {
      for (const dir of ["/bin", "/usr/bin"]) {
        try {
          symlinkSync(join(dir, tool), join(bin, "b", tool));
          break;
        } catch {}
      }
    }
    const r = await node(["scripts/preflight.mjs", "workers", "e2e"], {
      PATH: join(bin, "b"),
      ES_JAVA_HOME: "/nonexistent",
      SLUICE_TEST_ES_URL: "",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing was started");
    expect(r.stderr).toContain("JDK 21+");
    expect(r.stderr).toContain("apt-get install -y curl");
    expect(r.stderr).toContain("apt-get install -y python3 python3-venv");
  });

  it("passes on a machine that has everything", async () => {
    const r = await node(["scripts/preflight.mjs", "workers", "e2e"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
