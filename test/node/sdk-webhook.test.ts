/** verifyWebhook in Node: signatures made the way edgepush makes them, Node's and fetch's header shapes, every refusal. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookVerificationError, verifyWebhook } from "../../sdk";

const SECRET = "whsec-test";
const body = JSON.stringify({ time_ms: 1_800_000_000_000, events: [{ id: "e1", name: "uid_online", time_ms: 1_800_000_000_000, uid: "u1" }] });
const sign = (timestamp: number | string, text = body, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${text}`).digest("hex")}`;
const now = 1_800_000_000_500;

async function refusal(options: Parameters<typeof verifyWebhook>[0]): Promise<string> {
  try {
    await verifyWebhook(options);
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error("verifyWebhook accepted it");
}

describe("verifyWebhook", () => {
  it("Should accept a signed delivery from Node's req.headers or a fetch Headers, and return its events", async () => {
    const headers = { "x-edgepush-timestamp": "1800000000000", "x-edgepush-signature": sign(1_800_000_000_000) };
    const delivery = await verifyWebhook({ secret: SECRET, headers, body, now });
    expect(delivery.events).toEqual([{ id: "e1", name: "uid_online", time_ms: 1_800_000_000_000, uid: "u1" }]);
    const fetchHeaders = new Headers({ "X-Edgepush-Timestamp": "1800000000000", "X-Edgepush-Signature": sign(1_800_000_000_000) });
    expect((await verifyWebhook({ secret: SECRET, headers: fetchHeaders, body, now })).time_ms).toBe(1_800_000_000_000);
  });

  it("Should refuse a changed body, another secret, a missing header and a malformed signature", async () => {
    const ts = "1800000000000";
    expect(await refusal({ secret: SECRET, headers: { "x-edgepush-timestamp": ts, "x-edgepush-signature": sign(ts) }, body: `${body} `, now })).toBe("bad_signature");
    expect(await refusal({ secret: "other", headers: { "x-edgepush-timestamp": ts, "x-edgepush-signature": sign(ts) }, body, now })).toBe("bad_signature");
    expect(await refusal({ secret: SECRET, headers: { "x-edgepush-timestamp": ts, "x-edgepush-signature": "sha256=zz" }, body, now })).toBe("bad_signature");
    expect(await refusal({ secret: SECRET, headers: { "x-edgepush-signature": sign(ts) }, body, now })).toBe("missing_headers");
  });

  it("Should refuse a delivery signed more than 5 minutes ago (a replay), and honour toleranceMs", async () => {
    const old = now - 300_001;
    const headers = { "x-edgepush-timestamp": String(old), "x-edgepush-signature": sign(old) };
    expect(await refusal({ secret: SECRET, headers, body, now })).toBe("stale");
    expect((await verifyWebhook({ secret: SECRET, headers, body, now, toleranceMs: 600_000 })).events).toHaveLength(1);
  });

  it("Should refuse a signed body that is not a delivery", async () => {
    const ts = "1800000000000";
    expect(await refusal({ secret: SECRET, headers: { "x-edgepush-timestamp": ts, "x-edgepush-signature": sign(ts, "{}") }, body: "{}", now })).toBe("bad_body");
  });
});
