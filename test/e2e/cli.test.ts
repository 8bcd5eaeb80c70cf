// The admin CLI (`npm run sluice -- ...`, scripts/sluice.mjs) against the running stack.
import { describe, expect, it } from "vitest";
import { sluice, sluiceRaw } from "./client";

describe("admin CLI", () => {
  it("creates a project, lists it, and rotates its key", async () => {
    const created = await sluice("projects:create", "cli-e2e");
    expect(created.code).toBe(0);
    const project = JSON.parse(created.stdout) as { id: string; key: string; dsn: string; name: string };
    expect(project).toMatchObject({ name: "cli-e2e" });
    expect(project.key).toMatch(/^[0-9a-f]{32}$/);

    const table = await sluice("projects:list");
    expect(table.stdout).toContain("cli-e2e");
    expect(table.stdout).toContain(project.key);
    const listed = JSON.parse((await sluice("projects:list", "--json")).stdout) as {
      projects: { id: string }[];
    };
    expect(listed.projects.map((p) => p.id)).toContain(project.id);

    const rotated = JSON.parse((await sluice("keys:rotate", project.id, "--json")).stdout) as { key: string };
    expect(rotated.key).toMatch(/^[0-9a-f]{32}$/);
    expect(rotated.key).not.toBe(project.key);
    const after = JSON.parse((await sluice("projects:list", "--json")).stdout) as {
      projects: { id: string; key: string }[];
    };
    expect(after.projects.find((p) => p.id === project.id)?.key).toBe(rotated.key);
  });

  it("reads and patches settings, and lists groups", async () => {
    const { id } = JSON.parse((await sluice("projects:create", "cli-settings")).stdout) as { id: string };
    const set = await sluice("settings:set", id, '{"rateLimitPerMinute":600}');
    expect(set.code).toBe(0);
    const got = JSON.parse((await sluice("settings:get", id)).stdout) as { rateLimitPerMinute: number };
    expect(got.rateLimitPerMinute).toBe(600);
    const groups = await sluice("groups:list", id);
    expect(groups.code).toBe(0);
    expect(groups.stdout).toContain("(none)");
  });

  it("moves a project between the 2 metadata shards of npm start, counts intact", async () => {
    const { id, shard } = JSON.parse((await sluice("projects:create", "cli-move")).stdout) as {
      id: string;
      shard: number;
    };
    const to = 1 - shard;
    const moved = await sluice("projects:move", id, "--shard", String(to));
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain(`project ${id}: shard ${shard} -> ${to}; 0 row(s) moved`);
    const listed = JSON.parse((await sluice("projects:list", "--json")).stdout) as {
      projects: { id: string; shard: number }[];
    };
    expect(listed.projects.find((p) => p.id === id)?.shard).toBe(to);
    expect((await sluice("groups:list", id)).code).toBe(0);
    const far = await sluice("projects:move", id, "--shard", "7");
    expect(far.code).toBe(1);
    expect(far.stderr).toContain("shard: must be 0..1");
    const missing = await sluice("projects:move", id);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("missing --shard N");
    const badShard = await sluice("projects:move", id, "--shard", "soon");
    expect(badShard.code).toBe(1);
    expect(badShard.stderr).toContain("--shard must be a shard number");
  });

  it("fails with a clear message and exit code 1", async () => {
    const bad = await sluice("settings:set", "1", "{not json");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("settings must be JSON");
    const wrongToken = await sluice("projects:list", "--token", "nope");
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("401");
    const unknown = await sluice("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
  });

  it("refuses a mistyped or incomplete option instead of dropping it", async () => {
    // Without strict parsing `--tokn` was ignored and the command ran with the default token.
    const typo = await sluice("projects:list", "--tokn", "x");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Unknown option '--tokn'");
    expect(typo.stderr).toContain("Usage: npm run sluice -- projects:list");
    const extra = await sluice("keys:rotate", "1", "2");
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("unexpected argument: 2");
    const wrongPlace = await sluice("projects:list", "--status", "active");
    expect(wrongPlace.code).toBe(2);
    // A trailing --url without its value is an error, not a silent fallback to localhost.
    const { stderr } = await sluiceRaw(["projects:list", "--url"]);
    expect(stderr).toContain("argument missing");
    const help = await sluice("groups:list", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--status");
  });
});
