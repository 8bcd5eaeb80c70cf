// RUM page names: query and fragment are cut (they carry user data), in time linear in the name
// whatever it holds, and load times no page takes are not summed.
import { describe, expect, it } from "vitest";
import { measureGrowth } from "../../test/linear-time";
import { normalizePage, pageViewsOf } from "./page-views";

describe("normalizePage", () => {
  // `?` after `?` up to a newline: /[?#].*$/ retried from each one (27 s on 100 KB).
  const hostile = (n: number) => `${"?".repeat(n)}\nx`;

  it("cuts at the first ? or #, a newline after it or not", () => {
    expect(normalizePage(hostile(100_000))).toBe("/");
    expect(normalizePage(`/a${"#".repeat(100_000)}\n/`)).toBe("/a");
    expect(normalizePage("https://shop.example/cart?id=1#x")).toBe("/cart");
    expect(normalizePage("https://shop.example/cart#x?y")).toBe("/cart");
  });

  it("is linear in its input", async () => {
    const g = await measureGrowth(normalizePage, hostile(2_000), hostile(20_000));
    expect(g.ratio, `${g.small.toFixed(2)} ms → ${g.large.toFixed(2)} ms`).toBeLessThanOrEqual(15);
  });
});

describe("pageViewsOf load times", () => {
  it("counts the view but not a load time no page takes (D1 sums them)", () => {
    const views = pageViewsOf({
      type: "mobile_event_timing",
      data: [
        { name: "/a", timing: { type: "p", duration: 5e18 } },
        { name: "/b", timing: { type: "p", duration: 812 } },
      ],
    });
    expect(views).toEqual([
      { page: "/a", loadMs: null },
      { page: "/b", loadMs: 812 },
    ]);
  });
});
