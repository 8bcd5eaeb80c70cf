// The real Python sentry-sdk (from PyPI, pinned in scripts/python-sdk.sh) sends exceptions from a
// Python script: a second platform's frames are normalized and group correctly.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { adminApi, createProject, eventually } from "./client";

const root = join(import.meta.dirname, "..", "..");
let python = "";
beforeAll(() => {
  python = execFileSync("bash", [join(root, "scripts", "python-sdk.sh")], { cwd: root })
    .toString()
    .trim();
}, 180_000);

function send(dsn: string, mode: "same" | "other"): string[] {
  const out = execFileSync(python, [join(import.meta.dirname, "python", "send_errors.py"), dsn, mode], {
    timeout: 60_000,
  });
  return out.toString().trim().split("\n").filter(Boolean);
}

describe("Python sentry-sdk against Sluice", () => {
  it("the same KeyError twice is one group of 2; a ZeroDivisionError is another group", async () => {
    const project = await createProject("sentry-python-e2e");
    const same = send(project.dsn, "same");
    const other = send(project.dsn, "other");
    expect(same).toHaveLength(2);
    expect(other).toHaveLength(1);
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
    }>(`/api/v1/projects/${project.id}/events/${same[0]!.replaceAll("-", "")}`);
    const frames = d.body.event.exceptions.at(-1)!.frames;
    expect(frames.map((f) => f.function).slice(-3)).toEqual(["checkout", "charge", "read_quota"]);
    expect(frames.at(-1)!.filename).toContain("send_errors.py");
  });
});
