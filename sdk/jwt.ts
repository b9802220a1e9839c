/** HS256 JWTs with WebCrypto only, so the SDK runs unchanged in Node 20+, Workers, Deno and Bun. */

const encoder = new TextEncoder();

/** A WebCrypto key; named through `crypto` because Node's types have no global `CryptoKey`. */
export type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Imports `secret` once as an HMAC-SHA-256 signing key. */
export function hmacKey(secret: string): Promise<HmacKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/**
 * Signs `payload` as a compact HS256 JWT.
 * @example await signHs256({ sub: "u1", exp: 1900000000 }, await hmacKey(secret))
 */
export async function signHs256(payload: Record<string, unknown>, key: HmacKey): Promise<string> {
  const head = base64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = base64Url(encoder.encode(JSON.stringify(payload)));
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${base64Url(new Uint8Array(signature))}`;
}
