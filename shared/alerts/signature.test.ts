import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeader, verifySignature } from "./signature";

describe("webhook signatures", () => {
  it("is the hex HMAC-SHA256 of the body keyed by the secret (a published test vector)", async () => {
    expect(await signatureHeader("key", "The quick brown fox jumps over the lazy dog")).toBe(
      "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
    );
  });

  it("agrees with node:crypto on unicode bodies, and verification rejects any change", async () => {
    const body = JSON.stringify({ trigger: "new_issue", group: { message: "💥 naïve <b>" } });
    const header = await signatureHeader("s3cret", body);
    expect(header).toBe(`sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`);
    expect(await verifySignature("s3cret", body, header)).toBe(true);
    expect(await verifySignature("s3cret", `${body} `, header)).toBe(false);
    expect(await verifySignature("other", body, header)).toBe(false);
    expect(await verifySignature("s3cret", body, null)).toBe(false);
  });
});
