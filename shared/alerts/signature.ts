// Webhook signatures: `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the
// rule's secret>`, computed with WebCrypto so the alerter (workerd) and tests (Node) agree.

const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * @example await signatureHeader("secret", '{"a":1}') // "sha256=…64 hex…"
 */
export async function signatureHeader(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return `sha256=${hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)))}`;
}

/** Checks a received signature in constant time (what a receiver does). */
export async function verifySignature(secret: string, body: string, header: string | null): Promise<boolean> {
  if (!header) return false;
  const expected = await signatureHeader(secret, body);
  if (expected.length !== header.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ header.charCodeAt(i);
  return diff === 0;
}
