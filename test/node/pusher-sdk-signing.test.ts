/**
 * The published `pusher` server SDK (pusher-http-node 5) against the Pusher codec's checks: the
 * requests it really sends (captured by a local HTTP server), the channel and user signatures
 * it makes, and the bodies it posts all pass edgepush's verification, and a tampered one fails.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Pusher from "pusher";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parsePresenceData, parseUserData, verifyChannelAuth, verifySigninAuth } from "../../src/gateway/pusher/auth";
import { verifyRestRequest } from "../../src/gateway/pusher/rest-auth";
import { parseBatchBody, parseEventsBody } from "../../src/gateway/pusher/rest-schema";

const app = { appId: "3", key: "app-key", secret: "app-secret" };
interface Captured {
  method: string;
  path: string;
  query: string;
  body: string;
}
const captured: Captured[] = [];
let server: Server;
let pusher: Pusher;

// Node's WebCrypto has no MD5 (workerd's has, and the Workers-runtime tests use that one).
const digest = crypto.subtle.digest.bind(crypto.subtle);
vi.spyOn(crypto.subtle, "digest").mockImplementation(async (algorithm, data) => {
  if (algorithm !== "MD5") return digest(algorithm, data);
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const md5 = createHash("md5").update(bytes).digest();
  return md5.buffer.slice(md5.byteOffset, md5.byteOffset + md5.byteLength);
});

beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url!, "http://127.0.0.1");
    captured.push({ method: req.method!, path: url.pathname, query: url.search, body: Buffer.concat(chunks).toString() });
    res.setHeader("content-type", "application/json");
    res.end(url.pathname.endsWith("/users") ? '{"users":[]}' : url.pathname.includes("/channels") ? '{"channels":{}}' : "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  pusher = new Pusher({ ...app, host: "127.0.0.1", port: String(port), useTLS: false });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The request the SDK sent for `call`, as the Worker will see it. */
async function sent(call: () => Promise<unknown>): Promise<Captured> {
  captured.length = 0;
  await call();
  expect(captured).toHaveLength(1);
  return captured[0];
}

const verify = (request: Captured) => verifyRestRequest(request, app);

describe("pusher SDK requests pass the REST signature check", () => {
  it("Should verify trigger, its body passing the events schema", async () => {
    const request = await sent(() => pusher.trigger(["orders", "private-a"], "OrderShipped", { id: 1 }, { socket_id: "1.2" }));
    expect(request).toMatchObject({ method: "POST", path: "/apps/3/events" });
    expect(request.query).toMatch(/^\?auth_key=app-key&auth_timestamp=\d+&auth_version=1\.0&body_md5=[0-9a-f]{32}&auth_signature=[0-9a-f]{64}$/);
    expect(await verify(request)).toEqual({ ok: true });
    expect(parseEventsBody(JSON.parse(request.body))).toEqual({
      ok: true,
      value: { name: "OrderShipped", data: '{"id":1}', channels: ["orders", "private-a"], socketId: "1.2", info: [] },
    });
  });

  it("Should verify triggerBatch and sendToUser, their bodies passing the schemas", async () => {
    const batch = await sent(() =>
      pusher.triggerBatch([
        { channel: "a", name: "e1", data: { x: 1 } },
        { channel: "presence-b", name: "e2", data: "text", info: "user_count" },
      ]),
    );
    expect(batch.path).toBe("/apps/3/batch_events");
    expect(await verify(batch)).toEqual({ ok: true });
    expect(parseBatchBody(JSON.parse(batch.body))).toMatchObject({ ok: true, value: [{ channels: ["a"] }, { info: ["user_count"] }] });

    const toUser = await sent(() => pusher.sendToUser("u1", "hello", { a: 1 }));
    expect(await verify(toUser)).toEqual({ ok: true });
    expect(parseEventsBody(JSON.parse(toUser.body))).toMatchObject({ ok: true, value: { channels: ["#server-to-user-u1"] } });
  });

  it("Should verify the GET routes with their query parameters and terminate_connections", async () => {
    const channels = await sent(() => pusher.get({ path: "/channels", params: { filter_by_prefix: "presence-", info: "user_count" } }));
    expect(channels.query).toContain("filter_by_prefix=presence-&info=user_count");
    expect(await verify(channels)).toEqual({ ok: true });
    const channel = await sent(() => pusher.get({ path: "/channels/presence-b", params: { info: "user_count,subscription_count" } }));
    expect(await verify(channel)).toEqual({ ok: true });
    const users = await sent(() => pusher.get({ path: "/channels/presence-b/users" }));
    expect(users.body).toBe("");
    expect(await verify(users)).toEqual({ ok: true });
    const terminate = await sent(() => pusher.terminateUserConnections("u1"));
    expect(terminate).toMatchObject({ method: "POST", path: "/apps/3/users/u1/terminate_connections", body: "{}" });
    expect(await verify(terminate)).toEqual({ ok: true });
  });

  it("Should refuse an SDK request signed with another secret or changed on the way", async () => {
    const request = await sent(() => pusher.trigger("orders", "e", "data"));
    expect(await verifyRestRequest(request, { ...app, secret: "other" })).toMatchObject({ ok: false });
    expect(await verify({ ...request, body: request.body.replace("orders", "others") })).toEqual({
      ok: false,
      reason: "body_md5 does not match the body",
    });
    expect(await verify({ ...request, path: "/apps/4/events" })).toMatchObject({ ok: false });
  });
});

describe("pusher SDK signatures pass the subscription and signin checks", () => {
  const socketId = "3.1234567890123456";
  const { key, secret } = app;

  it("Should verify authorizeChannel for private and presence channels", async () => {
    const priv = pusher.authorizeChannel(socketId, "private-orders");
    expect(await verifyChannelAuth({ key, secret, socketId, channel: "private-orders", auth: priv.auth })).toEqual({ ok: true });
    const presence = pusher.authorizeChannel(socketId, "presence-chat", { user_id: "u1", user_info: { name: "Ann" } });
    const check = { key, secret, socketId, channel: "presence-chat", auth: presence.auth, channelData: presence.channel_data };
    expect(await verifyChannelAuth(check)).toEqual({ ok: true });
    expect(parsePresenceData(presence.channel_data)).toEqual({ ok: true, member: { userId: "u1", userInfo: { name: "Ann" } } });
    expect(await verifyChannelAuth({ ...check, socketId: "3.1234567890123457" })).toMatchObject({ ok: false });
  });

  it("Should verify authenticateUser and take its user_data", async () => {
    const { auth, user_data: userData } = pusher.authenticateUser(socketId, { id: "u1", user_info: { name: "Ann" } });
    expect(await verifySigninAuth({ key, secret, socketId, userData, auth })).toEqual({ ok: true });
    expect(parseUserData(userData)).toEqual({ ok: true, user: { id: "u1", userInfo: { name: "Ann" } } });
  });
});
