import { describe, expect, it } from "vitest";
import { errorMessagesFilter } from "./error-messages";
import { input, withFilters } from "./test-helpers";

describe("error-messages filter", () => {
  it("matches any candidate, with or without the type, case-insensitively", () => {
    const s = withFilters({ errorMessages: ["*resizeobserver loop*", "TypeError: ?"] });
    const resize = ["Error: ResizeObserver loop limit exceeded", "ResizeObserver loop limit exceeded"];
    expect(errorMessagesFilter.check(input({ messages: resize }), s)).toBe(true);
    expect(errorMessagesFilter.check(input({ messages: ["TypeError: x", "x"] }), s)).toBe(true);
    expect(errorMessagesFilter.check(input({ messages: ["TypeError: xy", "xy"] }), s)).toBe(false);
    expect(errorMessagesFilter.check(input({ messages: [] }), s)).toBe(false);
  });
  it("an exact glob matches the bare value too", () => {
    const s = withFilters({ errorMessages: ["Script error."] });
    expect(errorMessagesFilter.check(input({ messages: ["Error: Script error.", "Script error."] }), s)).toBe(
      true,
    );
  });
});
