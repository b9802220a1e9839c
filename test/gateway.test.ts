import { describe, expect, it } from "vitest";
import { api, connect, push } from "./helpers";
import { channelAuth, gatewayConnect, pusherConnect, pusherRest, pusherSubscribe, PUSHER_APP_ID } from "./gateway-helpers";

describe("GET /gateway (GatewayWorker mode)", () => {
  it("Should send the init frame with a client_id shaped <shard>.<digits>", async () => {
    const { clientId, init } = await gatewayConnect();
    expect(init).toEqual({ type: "init", client_id: clientId });
    expect(clientId).toMatch(/^\d+\.\d{16}$/);
  });

  it("Should start a token connection bound to its uid and joined to its groups, pushes arriving raw", async () => {
    const { client } = await gatewayConnect("gw-u1", { groups: ["gw-g1"] });
    expect(await push({ uid: "gw-u1", data: { a: 1 } })).toMatchObject({ delivered: 1 });
    expect(await push({ group: "gw-g1", data: "plain text" })).toMatchObject({ delivered: 1 });
    expect(await client.waitFor(2)).toEqual(['{"a":1}', "plain text"]);
  });

  it("Should count gateway connections in /online and /groups/:group", async () => {
    const { client } = await gatewayConnect("gw-u2", { groups: ["gw-g2"] });
    expect(await (await api("/online/gw-u2")).json()).toEqual({ uid: "gw-u2", online: true, connections: 1 });
    expect(await (await api("/groups/gw-g2")).json()).toEqual({ group: "gw-g2", connections: 1, uids: ["gw-u2"] });
    client.close();
    await client.closed();
    await expect.poll(async () => ((await (await api("/online/gw-u2")).json()) as { online: boolean }).online, { timeout: 10_000 }).toBe(false);
  });

  it("Should reach one gateway connection by its clientId and no other", async () => {
    const a = await gatewayConnect();
    const b = await gatewayConnect();
    expect(await push({ clientId: a.clientId, data: "only a" })).toMatchObject({ delivered: 1 });
    expect(await push({ clientId: b.clientId, data: "only b" })).toMatchObject({ delivered: 1 });
    expect(await a.client.waitFor(1)).toEqual(["only a"]);
    expect(await b.client.waitFor(1)).toEqual(["only b"]);
  });

  it("Should reach a gateway connection and a /ws socket of one group with one push", async () => {
    const ws = await connect("gw-native", { groups: ["gw-mixed"], group: "gw-mixed" });
    const gw = await gatewayConnect("gw-multi", { groups: ["gw-mixed"] });
    expect(await push({ group: "gw-mixed", data: "both" })).toMatchObject({ delivered: 2 });
    expect(await gw.client.waitFor(1)).toEqual(["both"]);
    expect((await ws.client.json(0)).data).toBe("both");
  });

  it("Should take a revoked uid's gateway connection out of the group but keep it connected", async () => {
    const { client } = await gatewayConnect("gw-rev", { groups: ["gw-revg"] });
    const res = await api("/groups/gw-revg/members/gw-rev", { method: "DELETE" });
    expect(await res.json()).toEqual({ ok: true, uid: "gw-rev", group: "gw-revg", closed: 1 });
    expect(await push({ group: "gw-revg", data: "not you" })).toMatchObject({ delivered: 0 });
    expect(await push({ uid: "gw-rev", data: "still here" })).toMatchObject({ delivered: 1 });
    expect(await client.waitFor(1)).toEqual(["still here"]);
  });

  it("Should close a uid's gateway connections on a kick by uid, and one by clientId", async () => {
    const a = await gatewayConnect("gw-kick");
    const b = await gatewayConnect();
    expect(await (await api("/kick", { json: { uid: "gw-kick" } })).json()).toMatchObject({ ok: true, closed: 1 });
    expect(await a.client.closed()).toBe(4000);
    expect(await (await api("/kick", { json: { clientId: b.clientId } })).json()).toMatchObject({ ok: true, closed: 1 });
    expect(await b.client.closed()).toBe(4000);
  });

  it("Should reach every gateway connection with an all push", async () => {
    const a = await gatewayConnect();
    const answer = await push({ all: true, data: "everyone" });
    expect(answer.delivered).toBeGreaterThanOrEqual(1);
    expect(await a.client.waitFor(1)).toEqual(["everyone"]);
  });
});

describe("GET /app/<key> (Pusher Channels)", () => {
  it("Should establish a connection with a socket_id and an activity_timeout", async () => {
    const { socketId, established } = await pusherConnect();
    expect(established.event).toBe("pusher:connection_established");
    expect(typeof established.data).toBe("string");
    expect(socketId).toMatch(/^\d+\.\d+$/);
  });

  it("Should deliver a native push with an event to a public channel's subscriber", async () => {
    const { client } = await pusherConnect();
    expect(await pusherSubscribe(client, "orders-1")).toEqual({ event: "pusher_internal:subscription_succeeded", channel: "orders-1", data: "{}" });
    expect(await push({ group: "orders-1", event: "OrderShipped", data: { id: 7 } })).toMatchObject({ delivered: 1 });
    expect(JSON.parse((await client.waitFor(1))[0])).toEqual({ event: "OrderShipped", channel: "orders-1", data: '{"id":7}' });
  });

  it("Should refuse a private channel without a valid auth and accept it with one", async () => {
    const { client, socketId } = await pusherConnect();
    const refused = await pusherSubscribe(client, "private-p1", { auth: "test-pusher-key:00" });
    expect(refused).toMatchObject({ event: "pusher:subscription_error", channel: "private-p1" });
    const ok = await pusherSubscribe(client, "private-p1", { auth: await channelAuth(socketId, "private-p1") });
    expect(ok.event).toBe("pusher_internal:subscription_succeeded");
  });

  it("Should keep one presence member per user_id and tell the others who came and went", async () => {
    const data1 = JSON.stringify({ user_id: "alice", user_info: { name: "A" } });
    const data2 = JSON.stringify({ user_id: "bob" });
    const a = await pusherConnect();
    const first = await pusherSubscribe(a.client, "presence-p1", { auth: await channelAuth(a.socketId, "presence-p1", data1), channel_data: data1 });
    expect(JSON.parse(first.data as string)).toEqual({ presence: { ids: ["alice"], hash: { alice: { name: "A" } }, count: 1 } });
    const b = await pusherConnect();
    const second = await pusherSubscribe(b.client, "presence-p1", { auth: await channelAuth(b.socketId, "presence-p1", data2), channel_data: data2 });
    expect(JSON.parse(second.data as string).presence.count).toBe(2);
    const added = JSON.parse((await a.client.waitFor(1))[0]);
    expect(added).toEqual({ event: "pusher_internal:member_added", channel: "presence-p1", data: JSON.stringify({ user_id: "bob", user_info: null }) });
    b.client.close();
    await b.client.closed();
    const removed = JSON.parse((await a.client.waitFor(2))[1]);
    expect(removed).toEqual({ event: "pusher_internal:member_removed", channel: "presence-p1", data: JSON.stringify({ user_id: "bob" }) });
  });

  it("Should give a late subscriber of every kind of cache channel its last event, and pusher:cache_miss before there is one", async () => {
    const member = JSON.stringify({ user_id: "cacher" });
    for (const prefix of ["cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-"]) {
      const channel = `${prefix}last-${Date.now()}`;
      const subscribe = async () => {
        const c = await pusherConnect();
        const data = prefix.startsWith("presence-") ? member : undefined;
        const extra: Record<string, string> = data === undefined ? {} : { channel_data: data };
        if (prefix !== "cache-") extra.auth = await channelAuth(c.socketId, channel, data);
        expect((await pusherSubscribe(c.client, channel, extra)).event, channel).toBe("pusher_internal:subscription_succeeded");
        return JSON.parse((await c.client.waitFor(1))[0]) as { event: string; channel: string; data?: string };
      };
      expect(await subscribe()).toEqual({ event: "pusher:cache_miss", channel });
      const sent = await pusherRest("POST", `/apps/${PUSHER_APP_ID}/events`, { body: { name: "price", channel, data: '{"eur":2}' } });
      expect(sent.status).toBe(200);
      expect(await subscribe(), channel).toEqual({ event: "price", channel, data: '{"eur":2}' });
    }
  });

  it("Should relay a client event to the other subscribers but not echo it", async () => {
    const a = await pusherConnect();
    const b = await pusherConnect();
    for (const c of [a, b]) await pusherSubscribe(c.client, "private-chat", { auth: await channelAuth(c.socketId, "private-chat") });
    a.client.send(JSON.stringify({ event: "client-typing", channel: "private-chat", data: { who: "a" } }));
    expect(JSON.parse((await b.client.waitFor(1))[0])).toEqual({ event: "client-typing", channel: "private-chat", data: '{"who":"a"}' });
    // The sender gets nothing: a sentinel push arrives first.
    await push({ group: "private-chat", data: "sentinel" });
    expect(JSON.parse((await a.client.waitFor(1))[0]).data).toBe("sentinel");
  });
});

describe("gateway frame budget", () => {
  it("Should close a flood from one gateway connection with 1008, saying why to those that read frames, the others untouched", async () => {
    const raw = await gatewayConnect();
    const envelope = await gatewayConnect(`gw-flood-${Date.now()}`, { format: "envelope" });
    const bystander = await gatewayConnect("gw-bystander");
    const before = envelope.client.messages.length;
    for (let i = 0; i < 400; i++) {
      raw.client.send("{}");
      envelope.client.send("ping");
    }
    expect(await raw.client.closed()).toBe(1008);
    expect(await envelope.client.closed()).toBe(1008);
    // A raw page would alert an error frame: it only sees the close.
    expect(raw.client.messages).toEqual([]);
    const refusals = envelope.client.messages.slice(before).filter((m) => m !== "pong").map((m) => JSON.parse(m));
    expect(refusals).toEqual([{ type: "error", code: "budget_exceeded", message: expect.any(String) }]);
    expect(await push({ uid: "gw-bystander", data: "still fine" })).toMatchObject({ delivered: 1 });
    expect(await bystander.client.waitFor(1)).toEqual(["still fine"]);
  });

  it("Should tell a Pusher connection of a flood and of a binary frame with pusher:error, never edgepush's error frame", async () => {
    const binary = await pusherConnect();
    binary.client.send(new TextEncoder().encode("binary").buffer as ArrayBuffer);
    expect(JSON.parse((await binary.client.waitFor(1))[0])).toEqual({ event: "pusher:error", data: { code: null, message: "send text frames" } });
    const flooder = await pusherConnect();
    for (let i = 0; i < 400; i++) flooder.client.send('{"event":"pusher:pong","data":{}}');
    expect(await flooder.client.closed()).toBe(1008);
    expect(flooder.client.messages.map((m) => JSON.parse(m))).toEqual([{ event: "pusher:error", data: { code: null, message: expect.any(String) } }]);
  });
});
