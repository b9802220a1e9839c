import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PUSHER_KEY, PUSHER_SECRET, hmacHex, md5Hex, pusherConnect, pusherRest, pusherSubscribe } from "./gateway-helpers";
import { unique } from "./presence-helpers";

const APP = "/apps/1";

/**
 * A REST call signed as the SDKs sign (values unescaped in the signed string), with every query
 * value percent-encoded on the wire, so any string can be sent. `spoil` makes a bad signature.
 */
async function signed(
  method: string, path: string, query: Record<string, string> = {}, body = "", spoil: (q: Record<string, string>) => void = () => {},
): Promise<Response> {
  const params: Record<string, string> = { ...query, auth_key: PUSHER_KEY, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: "1.0" };
  if (body !== "") params.body_md5 = await md5Hex(body);
  const keys = Object.keys(params).sort();
  const toSign = keys.map((k) => `${k}=${params[k]}`).join("&");
  // Signed as the URL goes out: `/channels/./users` is sent as `/channels/users`.
  const sentPath = new URL(path, "https://edgepush.test").pathname;
  params.auth_signature = await hmacHex(PUSHER_SECRET, `${method}\n${sentPath}\n${toSign}`);
  spoil(params);
  const wire = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return exports.default.fetch(`https://edgepush.test${path}?${wire}`, {
    method, body: body === "" ? undefined : body, headers: body === "" ? {} : { "Content-Type": "application/json" },
  });
}

/** The answer is `allowed`, JSON, and a refusal carries a code and a message saying why. */
async function expectAnswer(res: Response, allowed: number[], what: string): Promise<any> {
  const text = await res.text();
  expect(allowed, `${what} → ${res.status} ${text}`).toContain(res.status);
  const answer = JSON.parse(text);
  if (res.status !== 200) {
    expect(typeof answer.error.code, text).toBe("string");
    expect(answer.error.message.length, text).toBeGreaterThan(0);
  }
  return answer;
}

const odd = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom("", "x".repeat(300), "private-", "presence-", "#server-to-user-", "💥", "a b", "a\u0000b", "cache-", "private-encrypted-x"),
);
const channelNames = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_\-=@,.;]{1,30}$/), fc.string({ maxLength: 20 }), odd);
const eventBodies = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    name: fc.oneof(fc.string({ maxLength: 20 }), fc.constant("n".repeat(201)), odd),
    data: fc.oneof(fc.string({ maxLength: 50 }), fc.constant("d".repeat(11_000)), fc.constant("é".repeat(40_000)), odd),
    channel: channelNames,
    channels: fc.oneof(fc.array(channelNames, { maxLength: 4 }), fc.constant(Array.from({ length: 101 }, (_, i) => `c${i}`)), odd),
    socket_id: fc.oneof(fc.stringMatching(/^\d{1,6}\.\d{1,6}$/), fc.string({ maxLength: 10 }), odd),
    info: fc.oneof(fc.constantFrom("user_count", "subscription_count", "cache", "user_count,,x", ""), odd),
  }, { requiredKeys: [] }),
);

describe("Hostile input to the Pusher REST API", () => {
  it("Should answer any correctly signed events or batch body with 200, 400 or 413 and a reason, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(eventBodies, fc.boolean(), async (event, batch) => {
        const body = JSON.stringify(batch ? { batch: Array.isArray(event) ? event : [event] } : event);
        const res = await signed("POST", `${APP}/${batch ? "batch_events" : "events"}`, {}, body);
        await expectAnswer(res, [200, 400, 413], body.slice(0, 300));
      }),
      { numRuns: 150 },
    );
  });

  it("Should answer any correctly signed body that is no JSON, or JSON that is no object, with 400", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 50 }), fc.jsonValue().map((v) => JSON.stringify(v))), async (body) => {
        const res = await signed("POST", `${APP}/events`, {}, body);
        await expectAnswer(res, [400], JSON.stringify(body));
      }),
      { numRuns: 60 },
    );
  });

  it("Should answer any correctly signed query or channel in the path with 200, 400 or (empty) 404, never 500", async () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("presence-", "user_count", "subscription_count", "cache", "%", "x".repeat(3000)));
    const requests = fc.oneof(
      fc.record({ path: fc.constant(`${APP}/channels`), query: fc.record({ filter_by_prefix: text, info: text }, { requiredKeys: [] }) }),
      fc.record({ path: channelNames.map((c) => `${APP}/channels/${encodeURIComponent(String(c))}`), query: fc.record({ info: text }, { requiredKeys: [] }) }),
      fc.record({ path: channelNames.map((c) => `${APP}/channels/${encodeURIComponent(String(c))}/users`), query: fc.constant({}) }),
    );
    await fc.assert(
      fc.asyncProperty(requests, async ({ path, query }) => {
        // 404: an empty channel leaves no path segment for it.
        await expectAnswer(await signed("GET", path, query), [200, 400, 404], `${path} ${JSON.stringify(query)}`);
      }),
      { numRuns: 120 },
    );
  });

  it("Should answer terminate_connections for any user id with 200, 400 or (empty) 404", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("x".repeat(200), "a%2Fb", "%00")), async (user) => {
        const path = `${APP}/users/${encodeURIComponent(user)}/terminate_connections`;
        await expectAnswer(await signed("POST", path), [200, 400, 404], path);
      }),
      { numRuns: 40 },
    );
  });

  it("Should refuse any spoiled signature, key, timestamp, version or body_md5 with 401 and deliver nothing", async () => {
    const channel = unique("hostile-rest");
    const { client } = await pusherConnect();
    expect((await pusherSubscribe(client, channel)).event).toBe("pusher_internal:subscription_succeeded");
    const field = fc.constantFrom("auth_signature", "auth_key", "auth_timestamp", "auth_version", "body_md5");
    const junk = fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom("", "0", "99999999999999", "-1", "1.0 ", "%"));
    await fc.assert(
      fc.asyncProperty(field, fc.option(junk), async (key, value) => {
        const body = JSON.stringify({ name: "spoiled", channel, data: "must not arrive" });
        const res = await signed("POST", `${APP}/events`, {}, body, (q) => {
          if (value === null) delete q[key];
          else q[key] = q[key] === value ? `${value}x` : value;
        });
        const answer = await expectAnswer(res, [401], `${key}=${value}`);
        expect(answer.error.code).toBe("unauthorized");
      }),
      { numRuns: 80 },
    );
    // The connection got nothing from all that, and a good trigger still reaches it.
    expect((await pusherRest("POST", `${APP}/events`, { body: { name: "good", channel, data: "ok" } })).status).toBe(200);
    expect(JSON.parse((await client.waitFor(1))[0])).toMatchObject({ event: "good", channel, data: "ok" });
  });
});
