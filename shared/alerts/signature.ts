// Webhook signatures: `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the
// rule's secret>`, computed with WebCrypto (shared/digest.ts) so the alerter (workerd) and tests
// (Node) agree.
import { hmacHex, safeEqual } from "../digest";

/**
 * @example await signatureHeader("secret", '{"a":1}') // "sha256=…64 hex…"
 */
export async function signatureHeader(secret: string, body: string): Promise<string> {
  return `sha256=${await hmacHex(secret, body)}`;
}

/** Checks a received signature in constant time (what a receiver does). */
export async function verifySignature(secret: string, body: string, header: string | null): Promise<boolean> {
  return header !== null && safeEqual(await signatureHeader(secret, body), header);
}
