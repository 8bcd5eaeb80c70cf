import { describe, expect, it } from "vitest";
import { BEGIN, type CompatResult, END, mergeRun, renderMatrix, replaceBetweenMarkers } from "./matrix";

const row = (slug: string, protocol: "Sentry" | "Raygun", lastRun: string): CompatResult => ({
  slug,
  sdk: slug,
  protocol,
  version: "1.0.0",
  verified: ["culprit"],
  notSupported: [],
  accepted: ["error", "session"],
  lastRun,
});

describe("the README matrix", () => {
  it("keeps rows of clients that did not run, replaces those that did, Sentry first", () => {
    const merged = mergeRun(
      [row("raygun-node", "Raygun", "2026-01-01"), row("sentry-go", "Sentry", "2026-01-01")],
      [row("raygun-node", "Raygun", "2026-02-02")],
    );
    expect(merged.map((r) => [r.slug, r.lastRun])).toEqual([
      ["sentry-go", "2026-01-01"],
      ["raygun-node", "2026-02-02"],
    ]);
  });

  it("renders one row per client plus the clients the suite cannot drive, escaping pipes", () => {
    const md = renderMatrix([{ ...row("sentry-go", "Sentry", "2026-02-02"), sdk: "a|b" }]);
    expect(md).toContain("| Sentry | a\\|b | 1.0.0 | culprit, also accepted: session (2026-02-02) | — |");
    expect(md).toContain("raygun4java");
  });

  it("rewrites only the text between the markers, and refuses a README without them", () => {
    const readme = `before\n${BEGIN}\nold\n${END}\nafter\n`;
    expect(replaceBetweenMarkers(readme, "new")).toBe(`before\n${BEGIN}\nnew\n${END}\nafter\n`);
    expect(() => replaceBetweenMarkers("no markers", "new")).toThrow(/markers/);
  });
});
