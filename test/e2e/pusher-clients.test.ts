/**
 * pusher-js 8 (its Node build) and Laravel Echo 2 connect to a real `wrangler dev` unchanged:
 * every channel type, presence across two gateway shards, client events, sign-in and user
 * events, terminate_connections, and one namespace with the native API.
 */
import Echo from "laravel-echo";
import Pusher from "pusher-js";
import { describe, expect, it } from "vitest";
import { APP, collect, connectClient, pusherSuite, shardOf, subscribed, until, waitFor } from "./pusher-helpers";
import { E2E_PUSH_SECRET, backendPush } from "./wrangler-dev";

const suite = pusherSuite();
const connect = (user: string) => connectClient(suite.server, suite.auth, user);

/**
 * One connection each for users `<prefix>0`, `<prefix>1` … (at least four) until both gateway
 * shards hold one (ids say which: `<shard>.<digits>`). Every user has exactly one connection, so
 * any one of them leaving is a member leaving.
 */
async function onBothShards(prefix: string): Promise<{ users: string[]; clients: Pusher[] }> {
  const users: string[] = [];
  const clients: Pusher[] = [];
  while (clients.length < 4 || new Set(clients.map(shardOf)).size < 2) {
    // With GATEWAY_SHARDS=2 and shards picked at random, 20 connections on one shard mean a bug.
    if (clients.length >= 20) throw new Error(`20 connections, all on gateway shard ${shardOf(clients[0])}`);
    users.push(`${prefix}${users.length}`);
    clients.push(await connect(users[users.length - 1]));
  }
  return { users, clients };
}

describe("pusher-js against edgepush", () => {
  it("Should connect over ws with a socket_id naming its gateway shard", async () => {
    const pusher = await connect("c1");
    expect(pusher.connection.state).toBe("connected");
    expect(pusher.connection.socket_id).toMatch(/^\d+\.\d{16}$/);
  });

  it("Should receive SDK triggers on a public channel", async () => {
    const pusher = await connect("c1");
    const channel = await subscribed(pusher, "public-news");
    const got = collect(channel, "headline");
    await suite.sdk.trigger("public-news", "headline", { title: "edge" });
    await until(() => got.length === 1, "the trigger");
    expect(got).toEqual([{ title: "edge" }]);
  });

  it("Should authorize private channels through the app's auth endpoint and relay client events to others only", async () => {
    const [a, b] = [await connect("pa"), await connect("pb")];
    const [ca, cb] = [await subscribed(a, "private-chat"), await subscribed(b, "private-chat")];
    const toA = collect(ca, "client-typing");
    const toB = collect(cb, "client-typing");
    expect(ca.trigger("client-typing", { who: "a" })).toBe(true);
    await until(() => toB.length === 1, "the client event");
    // Bound first: the event reaches the socket before the SDK's call returns.
    const sentinel = waitFor(ca, "sentinel");
    await suite.sdk.trigger("private-chat", "sentinel", {});
    await sentinel;
    expect({ toA, toB }).toEqual({ toA: [], toB: [{ who: "a" }] });
  });

  it("Should refuse a private channel the auth endpoint refuses", async () => {
    suite.auth.banned.add("nobody");
    const pusher = await connect("nobody");
    const error = await waitFor(pusher.subscribe("private-secret"), "pusher:subscription_error");
    expect(error).toMatchObject({ type: "AuthError", status: 403 });
  });

  it("Should keep presence members across two gateway shards, one per user, with joins and leaves", async () => {
    const { users, clients } = await onBothShards("m");
    // One user with a connection on each shard.
    const dup: Pusher[] = [];
    while (new Set(dup.map(shardOf)).size < 2) dup.push(await connect("dup"));
    const channels: any[] = [];
    for (const c of [...clients, ...dup]) channels.push(await subscribed(c, "presence-lobby"));
    const everyone = [...users, "dup"].sort();
    // Member changes reach the others just after each subscription succeeds.
    await until(() => channels.every((ch) => ch.members.count === everyone.length), "every member on every connection");
    expect(Object.keys(channels[0].members.members).sort()).toEqual(everyone);
    expect(channels[0].members.get("m1")).toEqual({ id: "m1", info: { name: "User m1" } });

    // m0 leaves; a connection on the other shard hears it. One of dup's two leaves: nobody hears it.
    const leaver = clients[0];
    const watcher = channels[clients.findIndex((c) => shardOf(c) !== shardOf(leaver))];
    const left = collect(watcher, "pusher:member_removed");
    const joined = collect(watcher, "pusher:member_added");
    dup.find((c) => shardOf(c) === shardOf(leaver))!.disconnect();
    leaver.disconnect();
    await until(() => left.length === 1, "member_removed");
    const newcomer = await connect("m-new");
    await subscribed(newcomer, "presence-lobby");
    await until(() => joined.length === 1, "member_added");
    expect({ left, joined }).toEqual({ left: [{ id: "m0", info: { name: "User m0" } }], joined: [{ id: "m-new", info: { name: "User m-new" } }] });
    expect((watcher as any).members.count).toBe(everyone.length);
  });

  it("Should add the sender's user_id to client events on presence channels", async () => {
    const [a, b] = [await connect("wa"), await connect("wb")];
    const [ca, cb] = [await subscribed(a, "presence-whisper"), await subscribed(b, "presence-whisper")];
    const got = collect(cb, "client-wave");
    ca.trigger("client-wave", { hi: true });
    await until(() => got.length === 1, "the client event");
    expect(got).toEqual([{ data: { hi: true }, user_id: "wa" }]);
  });

  it("Should give a cache channel's new subscriber pusher:cache_miss, then the last event", async () => {
    const first = await connect("k1");
    const miss = waitFor(first.subscribe("cache-prices"), "pusher:cache_miss");
    await miss;
    await suite.sdk.trigger("cache-prices", "price", { eur: 1 });
    await suite.sdk.trigger("cache-prices", "price", { eur: 2 });
    const late = await connect("k2");
    const channel = late.subscribe("cache-prices");
    expect(await waitFor(channel, "price")).toEqual({ eur: 2 });
  });

  it("Should sign in and receive sendToUser events on every connection of the user", async () => {
    const clients = [await connect("signed-1"), await connect("signed-1")];
    const got: unknown[] = [];
    for (const c of clients) {
      c.user.bind("notice", (data: unknown) => got.push(data));
      c.signin();
      // pusher-js subscribes to #server-to-user-<id> itself once signed in.
      await until(() => c.user.serverToUserChannel?.subscribed === true, "signin and the user channel");
    }
    await suite.sdk.sendToUser("signed-1", "notice", { n: 1 });
    await until(() => got.length === 2, "the user event on both connections");
    expect(got).toEqual([{ n: 1 }, { n: 1 }]);
  });

  it("Should stay disconnected after terminate_connections (4009), while others stay connected", async () => {
    const victim = await connect("victim");
    const bystander = await connect("bystander");
    for (const c of [victim, bystander]) c.signin();
    await until(() => victim.user.user_data?.id === "victim" && bystander.user.user_data?.id === "bystander", "signin");
    const errors: any[] = [];
    victim.connection.bind("error", (e: unknown) => errors.push(e));
    // The directory learns of the signed-in user just after signin: retry until it is reached.
    await until(async () => {
      await suite.sdk.terminateUserConnections("victim");
      await new Promise((r) => setTimeout(r, 300));
      return victim.connection.state === "disconnected";
    }, "the victim's disconnect");
    expect(errors.some((e) => e?.data?.code === 4009 || e?.error?.data?.code === 4009)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect({ victim: victim.connection.state, bystander: bystander.connection.state }).toEqual({ victim: "disconnected", bystander: "connected" });
  });
});

describe("One namespace with the native API", () => {
  it("Should deliver a native POST /push with an event to a pusher-js subscriber of the group", async () => {
    const pusher = await connect("n1");
    const channel = await subscribed(pusher, "orders");
    const next = waitFor(channel, "OrderShipped");
    expect(await backendPush(suite.server, { group: "orders", event: "OrderShipped", data: { id: 42 } })).toMatchObject({ delivered: 1 });
    expect(await next).toEqual({ id: 42 });
  });

  it("Should deliver a Pusher trigger to a /ws socket of the group as a push with its event and parsed data", async () => {
    const res = await fetch(`${suite.server.url}/token`, {
      method: "POST",
      headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
      body: JSON.stringify({ uid: "native-user", groups: ["orders-ws"] }),
    });
    const { token } = (await res.json()) as { token: string };
    const ws = new WebSocket(`${suite.server.wsUrl}/ws?token=${token}&group=orders-ws`);
    const frames: any[] = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
    await until(() => frames.length === 1, "init");
    await suite.sdk.trigger("orders-ws", "OrderShipped", { id: 7 });
    await until(() => frames.length === 2, "the push");
    ws.close();
    expect(frames[1]).toMatchObject({ type: "push", event: "OrderShipped", data: { id: 7 } });
  });
});

describe("Laravel Echo with pusher-js", () => {
  function echo(user: string): Echo<"pusher"> {
    return new Echo({
      broadcaster: "pusher", key: APP.key, cluster: "", wsHost: "127.0.0.1", wsPort: suite.server.port, forceTLS: false,
      enabledTransports: ["ws"], Pusher, authEndpoint: `${suite.auth.url}/broadcasting/auth`, auth: { headers: {}, params: { user } },
    });
  }

  it("Should listen, join with here/joining/leaving, and whisper", async () => {
    const [alice, bob] = [echo("alice"), echo("bob")];
    try {
      const heard: unknown[] = [];
      alice.channel("echo-orders").listen(".OrderShipped", (e: unknown) => heard.push(e));
      const here: any[][] = [];
      const joining: any[] = [];
      const leaving: any[] = [];
      alice.join("echo-room").here((m: any[]) => here.push(m)).joining((m: any) => joining.push(m)).leaving((m: any) => leaving.push(m));
      await until(() => here.length === 1, "here()");
      const whispers: unknown[] = [];
      alice.private("echo-private").listenForWhisper("typing", (e: unknown) => whispers.push(e));
      bob.join("echo-room");
      await until(() => joining.length === 1, "joining()");
      const bobPrivate = bob.private("echo-private");
      await waitFor(bob.connector.pusher.channel("private-echo-private"), "pusher:subscription_succeeded");
      await until(async () => {
        bobPrivate.whisper("typing", { name: "bob" });
        await new Promise((r) => setTimeout(r, 200));
        return whispers.length > 0;
      }, "the whisper");
      // Subscribed before the push, which reaches only current members: an event for a channel
      // still subscribing is lost (and `here()` says nothing of a public channel's subscription).
      await until(() => alice.connector.pusher.channel("echo-orders")?.subscribed === true, "echo-orders subscribed");
      await backendPush(suite.server, { group: "echo-orders", event: "OrderShipped", data: { id: 1 } });
      await until(() => heard.length === 1, "the event");
      bob.disconnect();
      await until(() => leaving.length === 1, "leaving()");
      expect({ here: here[0], joining, leaving, heard, whisper: whispers[0] }).toEqual({
        here: [{ name: "User alice" }], joining: [{ name: "User bob" }], leaving: [{ name: "User bob" }], heard: [{ id: 1 }], whisper: { name: "bob" },
      });
    } finally {
      alice.disconnect();
      bob.disconnect();
    }
  });
});
