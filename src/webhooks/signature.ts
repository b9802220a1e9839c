/** Signing webhook deliveries: edgepush's and Pusher's headers. WebCrypto only. */
import type { Destination } from "./config";

const encoder = new TextEncoder();

/** Hex HMAC-SHA256 of `text` with `secret`. */
export async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  let hex = "";
  for (const byte of mac) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * The headers of one delivery attempt. edgepush signs `"<timestamp>.<body>"` (so a receiver can
 * refuse replays); Pusher signs the body alone with the app secret, as its SDKs verify it.
 * @example await deliveryHeaders(destination, body, Date.now())
 */
export async function deliveryHeaders(destination: Destination, body: string, timestampMs: number): Promise<Record<string, string>> {
  if (destination.format === "pusher") {
    return {
      "Content-Type": "application/json",
      "X-Pusher-Key": destination.key,
      "X-Pusher-Signature": await hmacHex(destination.secret, body),
    };
  }
  return {
    "Content-Type": "application/json",
    "X-Edgepush-Timestamp": String(timestampMs),
    "X-Edgepush-Signature": `sha256=${await hmacHex(destination.secret, `${timestampMs}.${body}`)}`,
  };
}
