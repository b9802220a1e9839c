/**
 * The Pusher ecosystem's published packages against a real `wrangler dev`: pusher-js (its Node
 * build) as the client, the `pusher` server SDK as the app's backend, and a local auth endpoint
 * made with that SDK, the way a Laravel app's `/broadcasting/auth` answers pusher-js.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import PusherServer from "pusher";
import Pusher from "pusher-js";
import type { Channel, Options } from "pusher-js";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startWranglerDev, type DevServer } from "./wrangler-dev";

export const APP = { appId: "4242", key: "e2e-pusher-key", secret: "e2e-pusher-secret" };

/** wrangler dev with the Pusher app configured and two gateway shards. */
export function startPusherDev(vars: Record<string, string> = {}): Promise<DevServer> {
  return startWranglerDev({
    PUSHER_APP_ID: APP.appId, PUSHER_APP_KEY: APP.key, PUSHER_APP_SECRET: APP.secret, GATEWAY_SHARDS: "2", ...vars,
  });
}

/** The `pusher` SDK pointed at edgepush, as the README configures it. */
export function serverSdk(server: DevServer, secret = APP.secret): PusherServer {
  return new PusherServer({ appId: APP.appId, key: APP.key, secret, host: "127.0.0.1", port: String(server.port), useTLS: false });
}

export interface AuthEndpoint {
  url: string;
  /** Users whose authorization is refused from now on (the first step of banning a user). */
  banned: Set<string>;
  stop(): Promise<void>;
}

/**
 * `/broadcasting/auth` and `/broadcasting/user-auth` as Laravel answers them, signed by the
 * `pusher` SDK. The user is the form's `user` field (pusher-js sends its `params`).
 */
export async function startAuthEndpoint(sdk: PusherServer): Promise<AuthEndpoint> {
  const banned = new Set<string>();
  const server: Server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const form = new URLSearchParams(text);
    const socketId = form.get("socket_id") ?? "";
    const user = form.get("user") ?? "";
    if (banned.has(user)) return void res.writeHead(403).end("banned");
    let answer: object;
    if (req.url === "/broadcasting/user-auth") {
      answer = sdk.authenticateUser(socketId, { id: user, user_info: { name: `User ${user}` } });
    } else {
      const channel = form.get("channel_name") ?? "";
      answer = channel.startsWith("presence-")
        ? sdk.authorizeChannel(socketId, channel, { user_id: user, user_info: { name: `User ${user}` } })
        : sdk.authorizeChannel(socketId, channel);
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, banned, stop: () => new Promise((done) => server.close(() => done())) };
}

/** The options the README gives pusher-js for edgepush (plus this test's auth endpoint and user). */
export function clientOptions(server: DevServer, auth: AuthEndpoint, user: string): Options {
  return {
    cluster: "",
    wsHost: "127.0.0.1",
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    channelAuthorization: { endpoint: `${auth.url}/broadcasting/auth`, transport: "ajax", params: { user } },
    userAuthentication: { endpoint: `${auth.url}/broadcasting/user-auth`, transport: "ajax", params: { user } },
  };
}

const open: Pusher[] = [];

/** A connected pusher-js client; `disconnectAll()` ends them. */
export async function connectClient(server: DevServer, auth: AuthEndpoint, user: string): Promise<Pusher> {
  const pusher = new Pusher(APP.key, clientOptions(server, auth, user));
  open.push(pusher);
  await waitFor(pusher.connection, "connected");
  return pusher;
}

export function disconnectAll(): void {
  for (const pusher of open.splice(0)) pusher.disconnect();
}

interface Emitter {
  bind(event: string, callback: (data: any, metadata?: any) => void): unknown;
  unbind(event: string, callback: (data: any, metadata?: any) => void): unknown;
}

/** The next `event` on `emitter` (a channel, a connection, `pusher.user`), or a failure after `ms`. */
export function waitFor<T = any>(emitter: Emitter, event: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.unbind(event, listener);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const listener = (data: T) => {
      clearTimeout(timer);
      emitter.unbind(event, listener);
      resolve(data);
    };
    emitter.bind(event, listener);
  });
}

/** Subscribes and waits for `pusher:subscription_succeeded` (an error fails with its status). */
export async function subscribed(pusher: Pusher, name: string): Promise<Channel> {
  const channel = pusher.subscribe(name);
  const error = waitFor(channel, "pusher:subscription_error").then((e) => {
    throw new Error(`subscription to ${name} failed: ${JSON.stringify(e)}`);
  });
  await Promise.race([waitFor(channel, "pusher:subscription_succeeded"), error]);
  error.catch(() => undefined);
  return channel;
}

/** Every `event` a channel receives, in order. */
export function collect(channel: Emitter, event: string): any[] {
  const got: any[] = [];
  channel.bind(event, (data: any, metadata?: any) => got.push(metadata?.user_id ? { data, user_id: metadata.user_id } : data));
  return got;
}

/** Resolves when `check()` is true; fails after `ms` naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The gateway shard a socket_id names (`<shard>.<digits>`). */
export const shardOf = (pusher: Pusher) => pusher.connection.socket_id.split(".")[0];

/** What a Pusher e2e file shares: one wrangler dev, the SDK pointed at it, the auth endpoint. */
export interface PusherSuite {
  server: DevServer;
  sdk: PusherServer;
  auth: AuthEndpoint;
}

/**
 * Starts them before the file's tests and stops them after; pusher-js clients end after each test.
 * Read the fields inside tests (they are set once `beforeAll` ran).
 */
export function pusherSuite(): PusherSuite {
  const suite = {} as PusherSuite;
  beforeAll(async () => {
    suite.server = await startPusherDev();
    suite.sdk = serverSdk(suite.server);
    suite.auth = await startAuthEndpoint(suite.sdk);
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await suite.auth?.stop();
    await suite.server?.stop();
  });
  return suite;
}
