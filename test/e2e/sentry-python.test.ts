// The real Python sentry-sdk (from PyPI, pinned in scripts/python-sdk.sh) sends exceptions from a
// Python script: a second platform's frames are normalized and group correctly. It runs twice: as
// installed alone (gzip bodies) and with the `brotli` module importable (br bodies), which is how
// the SDK behaves in many real applications.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { adminApi, createProject, eventually } from "./client";

const root = join(import.meta.dirname, "..", "..");
const variants = [
  { name: "sentry-sdk alone", venv: [], encoding: "gzip" },
  { name: "sentry-sdk with brotli", venv: ["brotli"], encoding: "br" },
] as const;
const pythons = new Map<string, string>();
beforeAll(() => {
  for (const v of variants) {
    const python = execFileSync("bash", [join(root, "scripts", "python-sdk.sh"), ...v.venv], { cwd: root });
    pythons.set(v.name, python.toString().trim());
  }
}, 300_000);

function send(python: string, dsn: string, mode: "same" | "other"): { encoding: string; ids: string[] } {
  const out = execFileSync(python, [join(import.meta.dirname, "python", "send_errors.py"), dsn, mode], {
    timeout: 60_000,
  });
  const [first, ...ids] = out.toString().trim().split("\n").filter(Boolean);
  return { encoding: first?.replace(/^encoding=/, "") ?? "", ids };
}

describe.each(variants)("Python $name against Sluice", (variant) => {
  it(`sends ${variant.encoding} bodies: the same KeyError twice is one group of 2, a ZeroDivisionError another`, async () => {
    const python = pythons.get(variant.name)!;
    const project = await createProject(`sentry-python-${variant.encoding}-e2e`);
    const same = send(python, project.dsn, "same");
    const other = send(python, project.dsn, "other");
    expect([same.encoding, other.encoding]).toEqual([variant.encoding, variant.encoding]);
    expect(same.ids).toHaveLength(2);
    expect(other.ids).toHaveLength(1);
    const groups = await eventually(async () => {
      const r = await adminApi<{ groups: { id: string; type: string; count: number; platform: string }[] }>(
        `/api/v1/projects/${project.id}/groups`,
      );
      const total = r.body.groups.reduce((n, g) => n + g.count, 0);
      return total === 3 ? r.body.groups : null;
    });
    expect(groups.map((g) => [g.type, g.count]).sort()).toEqual([
      ["KeyError", 2],
      ["ZeroDivisionError", 1],
    ]);
    expect(groups.every((g) => g.platform === "python")).toBe(true);
    // Event detail comes from the event index, written by the indexer after the group's counters.
    const keyError = groups.find((g) => g.type === "KeyError")!;
    await eventually(async () => {
      const r = await adminApi<{ events: unknown[] }>(
        `/api/v1/projects/${project.id}/groups/${keyError.id}/events`,
      );
      return r.body.events.length === 2 ? true : null;
    });
    const d = await adminApi<{
      event: { exceptions: { frames: { function: string; inApp: boolean | null; filename: string }[] }[] };
    }>(`/api/v1/projects/${project.id}/events/${same.ids[0]!.replaceAll("-", "")}`);
    const frames = d.body.event.exceptions.at(-1)!.frames;
    expect(frames.map((f) => f.function).slice(-3)).toEqual(["checkout", "charge", "read_quota"]);
    expect(frames.at(-1)!.filename).toContain("send_errors.py");
  });
});
