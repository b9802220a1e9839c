/** Verifying edgepush's webhook deliveries in your backend. WebCrypto only: Node 20+, Workers, Deno, Bun. */
import type { WebhookEvent } from "../src/contract/webhooks";

export type { WebhookEvent, WebhookEventName } from "../src/contract/webhooks";

/** A verified delivery: when it was sent, and its events in order. */
export interface WebhookDelivery {
  time_ms: number;
  events: WebhookEvent[];
}

/** Why a delivery was refused; answer it with a 4xx (edgepush retries it, a forger gets nothing). */
export type WebhookErrorReason = "missing_headers" | "bad_signature" | "stale" | "bad_body";

/** The one error `verifyWebhook` throws. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";

  constructor(readonly reason: WebhookErrorReason, message: string) {
    super(message);
  }
}

export interface VerifyWebhookOptions {
  /** The deployment's WEBHOOK_SECRET. */
  secret: string;
  /** The request's headers: a `Headers`, or Node's `req.headers` (names in any case). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The request body exactly as received: verify before parsing. */
  body: string;
  /** Oldest timestamp accepted, in ms (default 5 minutes): a captured delivery cannot be replayed later. */
  toleranceMs?: number;
  /** The time to judge the timestamp by (default now). */
  now?: number;
}

const encoder = new TextEncoder();

/**
 * Checks `X-Edgepush-Signature` (`sha256=` hex HMAC-SHA256 of `"<timestamp>.<body>"`) in constant
 * time and `X-Edgepush-Timestamp` within `toleranceMs`, then parses the body. Events carry an
 * `id` that is the same on every retry: de-duplicate on it.
 * @example
 * const { events } = await verifyWebhook({ secret: process.env.WEBHOOK_SECRET!, headers: req.headers, body });
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<WebhookDelivery> {
  const timestamp = header(options.headers, "x-edgepush-timestamp");
  const signature = header(options.headers, "x-edgepush-signature");
  if (!timestamp || !signature) {
    throw new WebhookVerificationError("missing_headers", "not an edgepush delivery: X-Edgepush-Timestamp or X-Edgepush-Signature is missing");
  }
  const match = /^sha256=([0-9a-f]{64})$/.exec(signature);
  const key = await crypto.subtle.importKey("raw", encoder.encode(options.secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  // crypto.subtle.verify compares in constant time.
  if (!match || !(await crypto.subtle.verify("HMAC", key, fromHex(match[1]), encoder.encode(`${timestamp}.${options.body}`)))) {
    throw new WebhookVerificationError("bad_signature", "the signature does not match the body and WEBHOOK_SECRET");
  }
  const age = (options.now ?? Date.now()) - Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(age) > (options.toleranceMs ?? 300_000)) {
    throw new WebhookVerificationError("stale", `the delivery is ${Math.round(age / 1000)} s old: a replay, or a clock far off`);
  }
  let delivery: WebhookDelivery;
  try {
    delivery = JSON.parse(options.body) as WebhookDelivery;
  } catch {
    throw new WebhookVerificationError("bad_body", "the body is not JSON");
  }
  if (!delivery || !Array.isArray(delivery.events)) throw new WebhookVerificationError("bad_body", "the body has no events");
  return delivery;
}

function header(headers: VerifyWebhookOptions["headers"], name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
