// The 400 messages of Raygun validation are a contract with clients: these are the exact texts the
// schema-based checks gave before they became plain checks.
import { describe, expect, it } from "vitest";
import { ClientError } from "../../../shared/http/errors";
import { validateRaygunReport, validateRumBody } from "./validate";

const OK = "2026-01-01T00:00:00Z";

function messageOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).status).toBe(400);
    return (err as Error).message;
  }
}

describe("validateRaygunReport", () => {
  const required = "report: occurredOn: occurredOn is required and must be an ISO-8601 string";
  const notIso = "report: occurredOn: occurredOn is not an ISO-8601 date-time";
  const details = "report: details: details is required and must be an object";
  it.each([
    [{}, required],
    [{ details: {} }, required],
    [{ occurredOn: 5, details: {} }, required],
    [{ occurredOn: null, details: null }, required],
    [{ occurredOn: "yesterday", details: {} }, notIso],
    [{ occurredOn: "", details: {} }, notIso],
    [{ occurredOn: OK }, details],
    [{ occurredOn: OK, details: "x" }, details],
    [{ occurredOn: OK, details: [] }, details],
    [{ occurredOn: OK, details: null }, details],
    [[], "report must be a JSON object"],
    [null, "report must be a JSON object"],
    ["x", "report must be a JSON object"],
  ])("rejects %j with its message", (report, message) => {
    expect(messageOf(() => validateRaygunReport(report))).toBe(message);
  });

  it("names the bulk item it rejects", () => {
    expect(messageOf(() => validateRaygunReport({ details: {} }, "reports[3]"))).toBe(
      "reports[3]: occurredOn: occurredOn is required and must be an ISO-8601 string",
    );
  });

  it.each([
    { occurredOn: OK, details: {} },
    { OccurredOn: OK, Details: { Error: {} } },
    { occurredOn: ` ${OK} `, details: {} },
  ])("accepts %j", (report) => {
    expect(messageOf(() => validateRaygunReport(report))).toBeNull();
  });
});

describe("validateRumBody", () => {
  const long = (n: number) => "s".repeat(n);
  it.each([
    [{}, "eventData[0]: sessionId: sessionId is required"],
    [{ sessionId: "", type: "x" }, "eventData[0]: sessionId: sessionId is required"],
    [{ sessionId: long(201), type: "x" }, "eventData[0]: sessionId: sessionId is required"],
    [{ sessionId: 5, type: "x" }, "eventData[0]: sessionId: sessionId is required"],
    [{ sessionId: null, type: null }, "eventData[0]: sessionId: sessionId is required"],
    [{ sessionId: "s" }, "eventData[0]: type: type is required"],
    [{ sessionId: "s", type: "" }, "eventData[0]: type: type is required"],
    [{ sessionId: "s", type: long(101) }, "eventData[0]: type: type is required"],
    [{ sessionId: "s", type: 3 }, "eventData[0]: type: type is required"],
    [null, "eventData[0] must be an object"],
    [[], "eventData[0] must be an object"],
  ])("rejects the item %j with its message", (item, message) => {
    expect(messageOf(() => validateRumBody({ eventData: [item] }, 100))).toBe(message);
  });

  it("accepts items at the length limits, in any key case", () => {
    const items = [
      { sessionId: long(200), type: long(100) },
      { SessionId: "s", Type: "t" },
    ];
    expect(validateRumBody({ EventData: items }, 100)).toEqual(items);
  });

  it("rejects bodies that are not a non-empty, bounded eventData array", () => {
    expect(messageOf(() => validateRumBody([], 100))).toBe(
      "RUM body must be a JSON object with an eventData array",
    );
    expect(messageOf(() => validateRumBody({}, 100))).toBe("eventData is required and must be an array");
    expect(messageOf(() => validateRumBody({ eventData: [] }, 100))).toBe("eventData is empty");
    expect(messageOf(() => validateRumBody({ eventData: [{}, {}, {}] }, 2))).toBe(
      "eventData holds 3 items; at most 2",
    );
  });
});
