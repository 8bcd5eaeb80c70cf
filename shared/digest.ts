// The few cryptographic helpers, in one place: constant-time comparison of secrets,
// HMAC-SHA256 (console session fingerprints and CSRF tokens, alert webhook signatures) and SHA-256
// (stored session ids), as hex.

/** Constant-time string comparison (the length of the token is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  if (x.byteLength !== y.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");

/** HMAC-SHA256 of `label` keyed by `key`, as hex. */
export async function hmacHex(key: string, label: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(label)));
}

/** SHA-256 of a string, as hex. */
export async function sha256Hex(value: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
}
