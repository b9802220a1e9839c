import { env, evictDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  PUSHER_APP_ID, channelAuth, pusherConnect, pusherRest, pusherSignin, pusherSubscribe,
} from "./gateway-helpers";
import { connect, push, sleep } from "./helpers";

const APP = `/apps/${PUSHER_APP_ID}`;

async function ok(res: Response): Promise<unknown> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status: 200 });
  return JSON.parse(text);
}

/** Polls `check` until it returns true (the directory learns of rooms just after they change). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(50);
  }
}

describe("POST /apps/:id/events", () => {
  it("Should deliver a trigger to Pusher subscribers and answer {}", async () => {
    const { client } = await pusherConnect();
    await pusherSubscribe(client, "rest-orders");
    const res = await pusherRest("POST", `${APP}/events`, { body: { name: "OrderShipped", channels: ["rest-orders"], data: '{"id":7}' } });
    expect(await ok(res)).toEqual({});
    expect(JSON.parse((await client.waitFor(1))[0])).toEqual({ event: "OrderShipped", channel: "rest-orders", data: '{"id":7}' });
  });

  it("Should reach native sockets of the group of the same name, event in the envelope and JSON data parsed", async () => {
    const json = await connect("native-1", { groups: ["rest-shared"], group: "rest-shared" });
    const text = await connect("native-2", { groups: ["rest-shared"], group: "rest-shared", extra: "format=raw" });
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "Ping", channel: "rest-shared", data: '{"n":1}' } }));
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "Note", channel: "rest-shared", data: "plain text" } }));
    const [first, second] = (await json.client.waitFor(2)).map((m) => JSON.parse(m));
    expect(first).toMatchObject({ type: "push", event: "Ping", data: { n: 1 } });
    expect(second).toMatchObject({ type: "push", event: "Note", data: "plain text" });
    expect(await text.client.waitFor(2)).toEqual(['{"n":1}', "plain text"]);
  });

  it("Should leave out the socket given as socket_id", async () => {
    const a = await pusherConnect();
    const b = await pusherConnect();
    for (const c of [a, b]) await pusherSubscribe(c.client, "rest-exclude");
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "e", channel: "rest-exclude", data: "1", socket_id: a.socketId } }));
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "e", channel: "rest-exclude", data: "2" } }));
    expect((await b.client.waitFor(2)).map((m) => JSON.parse(m).data)).toEqual(["1", "2"]);
    expect((await a.client.waitFor(1)).map((m) => JSON.parse(m).data)).toEqual(["2"]);
  });

  it("Should send to a signed-in user on #server-to-user-<id>, as sendToUser does", async () => {
    const { client, socketId } = await pusherConnect();
    await pusherSignin(client, socketId, "rest-user-1");
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "hello", channel: "#server-to-user-rest-user-1", data: '"hi"' } }));
    expect(JSON.parse((await client.waitFor(1))[0])).toEqual({ event: "hello", channel: "#server-to-user-rest-user-1", data: '"hi"' });
  });

  it("Should answer the channels' counts when info is asked", async () => {
    const { client, socketId } = await pusherConnect();
    const data = JSON.stringify({ user_id: "u-info" });
    await pusherSubscribe(client, "presence-rest-info", { auth: await channelAuth(socketId, "presence-rest-info", data), channel_data: data });
    await pusherSubscribe(client, "rest-info");
    const res = await pusherRest("POST", `${APP}/events`, {
      body: { name: "x", channels: ["presence-rest-info", "rest-info"], data: "{}", info: "user_count,subscription_count" },
    });
    expect(await ok(res)).toEqual({
      channels: { "presence-rest-info": { user_count: 1, subscription_count: 1 }, "rest-info": { subscription_count: 1 } },
    });
  });

  it("Should refuse data over MAX_PAYLOAD_BYTES with 413 and deliver nothing", async () => {
    const { client } = await pusherConnect();
    await pusherSubscribe(client, "rest-big");
    const res = await pusherRest("POST", `${APP}/events`, { body: { name: "big", channel: "rest-big", data: "x".repeat(64 * 1024 + 1) } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "too_large" } });
    // A small one goes through: it is the first thing the subscriber sees.
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "small", channel: "rest-big", data: "x".repeat(20 * 1024) } }));
    expect(JSON.parse((await client.waitFor(1))[0]).event).toBe("small");
  });

  it("Should refuse a body without channel or with a bad channel name with 400", async () => {
    for (const body of [{ name: "e", data: "1" }, { name: "e", data: "1", channel: "no spaces" }, { name: "e", data: {}, channel: "c" }]) {
      const res = await pusherRest("POST", `${APP}/events`, { body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
  });
});

describe("Pusher REST signatures", () => {
  async function refused(res: Response, reason: RegExp): Promise<void> {
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.message).toMatch(reason);
  }

  it("Should refuse a wrong secret, a stale timestamp and a changed body with 401, delivering nothing", async () => {
    const { client } = await pusherConnect();
    await pusherSubscribe(client, "rest-signed");
    const body = { name: "e", channel: "rest-signed", data: "bad" };
    await refused(await pusherRest("POST", `${APP}/events`, { body, secret: "wrong" }), /auth_signature/);
    await refused(await pusherRest("POST", `${APP}/events`, { body, timestamp: Math.floor(Date.now() / 1000) - 601 }), /auth_timestamp/);
    await refused(await pusherRest("POST", `${APP}/events`, { body, sentBody: JSON.stringify({ ...body, data: "changed" }) }), /body_md5/);
    const unsigned = await exports.default.fetch(`https://edgepush.test${APP}/events`, { method: "POST", body: JSON.stringify(body) });
    await refused(unsigned, /auth_signature is missing/);
    // Only the good one arrives.
    await ok(await pusherRest("POST", `${APP}/events`, { body: { ...body, data: "good" } }));
    // The channel sends in order: a refused trigger that got through would arrive before the good one.
    expect((await client.waitFor(1)).map((m) => JSON.parse(m).data)).toEqual(["good"]);
  });

  it("Should refuse a signed GET with a wrong secret", async () => {
    await refused(await pusherRest("GET", `${APP}/channels`, { secret: "wrong" }), /auth_signature/);
  });

  it("Should answer 404 for another app id and for an unknown path", async () => {
    const other = await pusherRest("POST", "/apps/999/events", { body: { name: "e", channel: "c", data: "1" } });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await pusherRest("GET", `${APP}/nothing-here`)).status).toBe(404);
  });

  it("Should answer 500 misconfigured naming the variables on any /apps/ path when the Pusher app is not set", async () => {
    const { default: app } = await import("../src/worker");
    const bare = { ...env, PUSHER_APP_SECRET: undefined, PUSHER_APP_ID: "" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    // A known endpoint, an unknown one under the app, and a path that names no app at all.
    for (const [method, path] of [["GET", `${APP}/channels`], ["GET", `${APP}/nothing-here`], ["POST", "/apps/"], ["GET", "/apps"], ["DELETE", "/apps/1/events"]]) {
      const res = await app.fetch(new Request(`https://edgepush.test${path}`, { method }), bare, ctx);
      expect(res.status, `${method} ${path}`).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("misconfigured");
      expect(body.error.message).toMatch(/PUSHER_APP_ID, PUSHER_APP_SECRET are not set/);
    }
  });
});

describe("POST /apps/:id/batch_events", () => {
  it("Should deliver each event to its channel in order and answer {}", async () => {
    const { client } = await pusherConnect();
    await pusherSubscribe(client, "rest-batch-a");
    await pusherSubscribe(client, "rest-batch-b");
    const batch = [
      { name: "one", channel: "rest-batch-a", data: "1" },
      { name: "two", channel: "rest-batch-b", data: "2" },
      { name: "three", channel: "rest-batch-a", data: "3" },
    ];
    expect(await ok(await pusherRest("POST", `${APP}/batch_events`, { body: { batch } }))).toEqual({});
    const got = (await client.waitFor(3)).map((m) => JSON.parse(m));
    expect(got.filter((f) => f.channel === "rest-batch-a").map((f) => f.event)).toEqual(["one", "three"]);
    expect(got.filter((f) => f.channel === "rest-batch-b").map((f) => f.event)).toEqual(["two"]);
  });

  it("Should answer per-item attributes by index when an item asks for info", async () => {
    const { client } = await pusherConnect();
    await pusherSubscribe(client, "rest-batch-info");
    const batch = [{ name: "a", channel: "rest-batch-info", data: "1", info: "subscription_count" }, { name: "b", channel: "rest-batch-info", data: "2" }];
    expect(await ok(await pusherRest("POST", `${APP}/batch_events`, { body: { batch } }))).toEqual({ batch: [{ subscription_count: 1 }, {}] });
  });
});

describe("GET /apps/:id/channels and /channels/:channel", () => {
  it("Should answer {\"channels\":{}} when no channel matches", async () => {
    expect(await ok(await pusherRest("GET", `${APP}/channels`, { query: { filter_by_prefix: "nothing-matches-" } }))).toEqual({ channels: {} });
  });

  it("Should list occupied channels by prefix, with user_count for presence channels", async () => {
    const a = await pusherConnect();
    const b = await pusherConnect();
    for (const [c, user] of [[a, "list-1"], [b, "list-2"]] as const) {
      const data = JSON.stringify({ user_id: user });
      await pusherSubscribe(c.client, "presence-list-x", { auth: await channelAuth(c.socketId, "presence-list-x", data), channel_data: data });
    }
    await pusherSubscribe(a.client, "list-public");
    await eventually(async () => {
      const body = (await ok(await pusherRest("GET", `${APP}/channels`, { query: { filter_by_prefix: "list-" } }))) as any;
      return body.channels["list-public"] !== undefined;
    });
    const presence = await pusherRest("GET", `${APP}/channels`, { query: { filter_by_prefix: "presence-list-", info: "user_count" } });
    expect(await ok(presence)).toEqual({ channels: { "presence-list-x": { user_count: 2 } } });
    const bad = await pusherRest("GET", `${APP}/channels`, { query: { info: "user_count" } });
    expect(bad.status).toBe(400);
  });

  it("Should answer one channel's occupied, subscription_count and user_count", async () => {
    const a = await pusherConnect();
    const b = await pusherConnect();
    const data = JSON.stringify({ user_id: "same-user" });
    for (const c of [a, b]) {
      await pusherSubscribe(c.client, "presence-one", { auth: await channelAuth(c.socketId, "presence-one", data), channel_data: data });
    }
    const res = await pusherRest("GET", `${APP}/channels/presence-one`, { query: { info: "user_count,subscription_count" } });
    expect(await ok(res)).toEqual({ occupied: true, user_count: 1, subscription_count: 2 });
    expect(await ok(await pusherRest("GET", `${APP}/channels/empty-channel`))).toEqual({ occupied: false });
    expect((await pusherRest("GET", `${APP}/channels/public-one`, { query: { info: "user_count" } })).status).toBe(400);
  });

  it("Should list a presence channel's users, one per user_id", async () => {
    const ids = ["ua", "ub", "ua"];
    for (const id of ids) {
      const c = await pusherConnect();
      const data = JSON.stringify({ user_id: id });
      await pusherSubscribe(c.client, "presence-users", { auth: await channelAuth(c.socketId, "presence-users", data), channel_data: data });
    }
    const body = (await ok(await pusherRest("GET", `${APP}/channels/presence-users/users`))) as { users: { id: string }[] };
    expect(body.users.map((u) => u.id).sort()).toEqual(["ua", "ub"]);
    expect((await pusherRest("GET", `${APP}/channels/not-presence/users`)).status).toBe(400);
  });
});

describe("POST /apps/:id/users/:user_id/terminate_connections", () => {
  it("Should close every connection of the signed-in user with pusher:error then 4009, and no other", async () => {
    const mine = [await pusherConnect(), await pusherConnect()];
    const other = await pusherConnect();
    for (const c of mine) await pusherSignin(c.client, c.socketId, "terminated-user");
    await pusherSignin(other.client, other.socketId, "kept-user");
    await eventually(async () => (await push({ uid: "terminated-user", data: "probe", ttl: 0 })).delivered === 2);
    for (const c of mine) c.client.messages.length = 0;
    // The directory lists the user's gateways once they reported (just after signin): retry until both closed.
    await eventually(async () => {
      expect(await ok(await pusherRest("POST", `${APP}/users/terminated-user/terminate_connections`, { body: {} }))).toEqual({});
      await sleep(50);
      return mine.every((c) => c.client.closeCode !== null);
    });
    for (const c of mine) {
      expect(await c.client.closed()).toBe(4009);
      expect(JSON.parse(c.client.messages[0])).toEqual({ event: "pusher:error", data: { code: 4009, message: "You got disconnected by the app." } });
    }
    expect(other.client.closeCode).toBeNull();
  });
});

describe("Gateway hibernation", () => {
  it("Should keep a Pusher subscription across an eviction of its gateway", async () => {
    const subscribers = [await pusherConnect(), await pusherConnect(), await pusherConnect()];
    for (const c of subscribers) await pusherSubscribe(c.client, "rest-hibernate");
    const shards = new Set(subscribers.map((c) => c.socketId.split(".")[0]));
    for (const shard of shards) await evictDurableObject(env.GATEWAYS.getByName(`gw:${shard}`));
    await ok(await pusherRest("POST", `${APP}/events`, { body: { name: "after", channel: "rest-hibernate", data: "woke" } }));
    for (const c of subscribers) {
      expect(JSON.parse((await c.client.waitFor(1))[0])).toEqual({ event: "after", channel: "rest-hibernate", data: "woke" });
    }
  });

  it("Should keep presence members and client events working after its gateway was evicted", async () => {
    const join = async (user: string) => {
      const c = await pusherConnect();
      const data = JSON.stringify({ user_id: user });
      await pusherSubscribe(c.client, "presence-hibernate", { auth: await channelAuth(c.socketId, "presence-hibernate", data), channel_data: data });
      return c;
    };
    const first = await join("h-first");
    await evictDurableObject(env.GATEWAYS.getByName(`gw:${first.socketId.split(".")[0]}`));
    const second = await join("h-second");
    expect(JSON.parse((await first.client.waitFor(1))[0])).toMatchObject({ event: "pusher_internal:member_added", data: '{"user_id":"h-second","user_info":null}' });
    await evictDurableObject(env.GATEWAYS.getByName(`gw:${second.socketId.split(".")[0]}`));
    first.client.send(JSON.stringify({ event: "client-wave", channel: "presence-hibernate", data: { hi: 1 } }));
    expect(JSON.parse((await second.client.waitFor(1))[0])).toEqual({ event: "client-wave", channel: "presence-hibernate", data: '{"hi":1}', user_id: "h-first" });
    second.client.close();
    expect(JSON.parse((await first.client.waitFor(2))[1])).toMatchObject({ event: "pusher_internal:member_removed", data: '{"user_id":"h-second"}' });
  });
});
