/** Gateway-tier helpers for the Workers-runtime suite: `/gateway` and Pusher (`/app/<key>`) sockets. */
import { exports } from "cloudflare:workers";
import { Client, token } from "./helpers";

export const PUSHER_KEY = "test-pusher-key";
export const PUSHER_SECRET = "test-pusher-secret";
const BASE = "https://edgepush.test";

/** A `/gateway` connection (with a token for `uid`, or anonymous); consumes the init frame. */
export async function gatewayConnect(uid?: string, opts: { groups?: string[]; format?: string; since?: number; autojoin?: boolean } = {}) {
  const params = new URLSearchParams();
  if (uid) params.set("token", await token(uid, opts.groups ? { groups: opts.groups } : {}));
  if (opts.format) params.set("format", opts.format);
  if (opts.since !== undefined) params.set("since", String(opts.since));
  if (opts.autojoin !== undefined) params.set("autojoin", String(opts.autojoin));
  const query = params.toString();
  const res = await exports.default.fetch(`${BASE}/gateway?${query}`, { headers: { Upgrade: "websocket" } });
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade ${res.status}: ${await res.text()}`);
  const client = new Client(res.webSocket);
  const init = (await client.json(0)) as { type: string; client_id: string };
  client.messages.shift();
  return { client, clientId: init.client_id, init };
}

/** A Pusher protocol 7 connection; consumes `pusher:connection_established`. */
export async function pusherConnect(key = PUSHER_KEY) {
  const res = await exports.default.fetch(`${BASE}/app/${key}?protocol=7&client=js&version=8.6.0`, { headers: { Upgrade: "websocket" } });
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade ${res.status}: ${await res.text()}`);
  const client = new Client(res.webSocket);
  const established = (await client.json(0)) as { event: string; data: string };
  client.messages.shift();
  const data = JSON.parse(established.data) as { socket_id: string; activity_timeout: number };
  return { client, socketId: data.socket_id, established };
}

/** Hex HMAC-SHA256, as Pusher's auth endpoints sign. */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `auth` a Pusher auth endpoint returns for a private/presence subscription. */
export async function channelAuth(socketId: string, channel: string, channelData?: string): Promise<string> {
  const signed = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${PUSHER_KEY}:${await hmacHex(PUSHER_SECRET, signed)}`;
}

/** Subscribes and waits for the answer frame (succeeded or error); returns it parsed and removes it. */
export async function pusherSubscribe(client: Client, channel: string, extra: Record<string, string> = {}) {
  const before = client.messages.length;
  client.send(JSON.stringify({ event: "pusher:subscribe", data: { channel, ...extra } }));
  await client.waitFor(before + 1);
  const [answer] = client.messages.splice(before, 1);
  return JSON.parse(answer) as { event: string; channel?: string; data: unknown };
}

export const PUSHER_APP_ID = "1";

/**
 * A Pusher REST call signed as the server SDKs sign it (auth_key, auth_timestamp, auth_version,
 * body_md5, auth_signature over `METHOD\npath\nsorted query`). Options make bad ones.
 */
export async function pusherRest(
  method: "GET" | "POST",
  path: string,
  opts: { body?: unknown; query?: Record<string, string>; secret?: string; timestamp?: number; sentBody?: string } = {},
): Promise<Response> {
  const body = opts.body === undefined ? "" : JSON.stringify(opts.body);
  const params: Record<string, string> = {
    ...opts.query,
    auth_key: PUSHER_KEY,
    auth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: "1.0",
  };
  if (body !== "") params.body_md5 = await md5Hex(body);
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join("&");
  const signature = await hmacHex(opts.secret ?? PUSHER_SECRET, `${method}\n${path}\n${query}`);
  const url = `${BASE}${path}?${query}&auth_signature=${signature}`;
  const sent = opts.sentBody ?? body;
  return exports.default.fetch(url, {
    method,
    headers: sent === "" ? {} : { "Content-Type": "application/json" },
    body: sent === "" ? undefined : sent,
  });
}

/** Hex MD5, as `body_md5`. */
export async function md5Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("MD5", new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Signs a Pusher connection in as `userId` (`pusher:signin`); waits for signin_success and removes it. */
export async function pusherSignin(client: Client, socketId: string, userId: string): Promise<void> {
  const userData = JSON.stringify({ id: userId });
  const auth = `${PUSHER_KEY}:${await hmacHex(PUSHER_SECRET, `${socketId}::user::${userData}`)}`;
  const before = client.messages.length;
  client.send(JSON.stringify({ event: "pusher:signin", data: { auth, user_data: userData } }));
  await client.waitFor(before + 1);
  const [answer] = client.messages.splice(before, 1);
  if (JSON.parse(answer).event !== "pusher:signin_success") throw new Error(`signin answered ${answer}`);
}
