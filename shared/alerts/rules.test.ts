import { describe, expect, it } from "vitest";
import { createRuleSchema, mergeRule, patchRuleSchema } from "./rules";

const target = { type: "webhook", url: "https://hooks.example.com/x" };

describe("alert rule validation", () => {
  it("fills defaults", () => {
    const r = createRuleSchema.parse({ name: "new", triggers: ["new_issue"], target });
    expect(r).toMatchObject({ cooldownMinutes: 30, enabled: true });
  });

  it.each([
    [{ name: "", triggers: ["new_issue"], target }, /name/],
    [{ name: "x", triggers: [], target }, /triggers/],
    [{ name: "x", triggers: ["nope"], target }, /triggers/],
    [{ name: "x", triggers: ["spike", "spike"], target }, /repeat/],
    [{ name: "x", triggers: ["frequency"], target }, /threshold/],
    [
      { name: "x", triggers: ["frequency"], target, threshold: { count: 5, windowMinutes: 99999 } },
      /windowMinutes|threshold/,
    ],
    [{ name: "x", triggers: ["new_issue"], target: { type: "email", url: "a@b" } }, /target/],
    [{ name: "x", triggers: ["new_issue"], target, extra: 1 }, /extra|Unrecognized/i],
  ])("refuses %j", (input, why) => {
    const r = createRuleSchema.safeParse(input);
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(`${issue.path.join(".")} ${issue.message}`).toMatch(why);
  });

  it("a PATCH that drops the threshold of a frequency rule is refused", () => {
    const current = {
      triggers: ["frequency" as const],
      threshold: { count: 5, windowMinutes: 5 },
      spike: null,
      environment: null,
      level: null,
    };
    expect(mergeRule(current, patchRuleSchema.parse({ threshold: null }))).toEqual({
      error: expect.stringMatching(/threshold/),
    });
    expect(
      mergeRule(current, patchRuleSchema.parse({ triggers: ["new_issue"], threshold: null })),
    ).toHaveProperty("config");
    expect(patchRuleSchema.safeParse({}).success).toBe(false);
  });
});
