import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, connect, push, receivedBefore, untilExpired } from "./helpers";
import { eventually, getJson } from "./presence-helpers";

const stubOf = (room: string) => env.ROOMS.getByName(room);
const frames = (messages: string[]) => messages.map((m) => JSON.parse(m));
const dataOf = (messages: string[]) => frames(messages).map((f) => f.data);
const connections = async (uid: string) => (await getJson(`/online/${uid}`)).connections as number;
/** Resolves once the uid's room counts `n` connections (it has seen the closes). */
const untilConnections = (uid: string, n: number) => eventually(() => connections(uid), (c) => c === n);

describe("Hibernation", () => {
  it("Should keep delivering to a socket, with its uid and clientId, after the room hibernates", async () => {
    const { client, init } = await connect("sleeper", { extra: "format=envelope" });
    await evictDurableObject(stubOf("uid:sleeper"), { webSockets: "hibernate" });
    expect(await push({ clientId: init.clientId, data: "by client" })).toMatchObject({ delivered: 1 });
    expect(await push({ uid: "sleeper", data: "by uid" })).toMatchObject({ delivered: 1 });
    expect(frames(await client.waitFor(2)).map((f) => f.data)).toEqual(["by client", "by uid"]);
    client.send("ping");
    await client.waitFor(3);
    expect(client.messages[2]).toBe("pong");
  });

  it("Should keep a raw socket raw and the seq counting after hibernation", async () => {
    const { client } = await connect("raw-sleeper", { extra: "format=raw" });
    await push({ uid: "raw-sleeper", data: { n: 1 } });
    await evictDurableObject(stubOf("uid:raw-sleeper"), { webSockets: "hibernate" });
    await push({ uid: "raw-sleeper", data: { n: 2 } });
    expect(await client.waitFor(2)).toEqual(['{"n":1}', '{"n":2}']);
    const { init } = await connect("raw-sleeper");
    expect(init.seq).toBe(2);
  });
});

describe("Fan-out", () => {
  it("Should reach the other sockets when one socket's send throws, and close that one with 1011", async () => {
    const groups = ["fragile"];
    const clients = await Promise.all(["f1", "f2", "f3"].map((u) => connect(u, { groups, group: "fragile" })));
    await runInDurableObject(stubOf("group:fragile"), (instance: unknown) => {
      const broken = [...(instance as { sockets: Map<WebSocket, unknown> }).sockets.keys()][1];
      broken.send = () => {
        throw new Error("socket broke");
      };
    });
    expect(await push({ group: "fragile", data: "go" })).toMatchObject({ delivered: 2 });
    expect((await clients[0].client.json(0)).data).toBe("go");
    expect((await clients[2].client.json(0)).data).toBe("go");
    expect(await clients[1].client.closed()).toBe(1011);
  });
});

describe("Offline queue and replay", () => {
  it("Should deliver 1000 messages queued for an offline uid in order on connect", async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => ({ uid: "offline-1000", data: i }));
    const { results } = (await (await api("/push", { json: batch })).json()) as any;
    expect(results.every((r: any) => r.ok && r.delivered === 0 && r.queued === 1)).toBe(true);
    const { client, init } = await connect("offline-1000");
    expect(init.seq).toBe(1000);
    const got = frames(await client.waitFor(1000, 15_000));
    expect(got.map((f) => f.data)).toEqual(batch.map((m) => m.data));
    expect(got.map((f) => f.seq)).toEqual(batch.map((_, i) => i + 1));
    // Delivered once: a second connection does not get the queue again.
    const again = await connect("offline-1000");
    expect(await receivedBefore(again.client, again.init)).toEqual([]);
  });

  it("Should replay exactly the missed messages to a client reconnecting with since", async () => {
    const first = await connect("resumer");
    await push({ uid: "resumer", data: "seen" });
    const seen = await first.client.json(0);
    first.client.close();
    await untilConnections("resumer", 0);
    await api("/push", { json: Array.from({ length: 500 }, (_, i) => ({ uid: "resumer", data: i })) });
    const { client, init } = await connect("resumer", { extra: `since=${seen.seq}` });
    await client.waitFor(500, 15_000);
    expect(dataOf(await receivedBefore(client, init))).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it("Should resume a tab with since while another tab of the uid stayed online: the missed messages, once", async () => {
    // Nothing is queued here (a tab was online throughout), so only `since` can bring them back.
    const uid = "two-tabs";
    const first = await connect(uid);
    const second = await connect(uid);
    await push({ uid, data: "both saw it" });
    const seen = await first.client.json(0);
    first.client.close();
    await untilConnections(uid, 1);
    await api("/push", { json: ["a", "b", "c"].map((data) => ({ uid, data })) });
    expect(dataOf(await second.client.waitFor(4))).toEqual(["both saw it", "a", "b", "c"]);
    const back = await connect(uid, { extra: `since=${seen.seq}` });
    expect(dataOf(await receivedBefore(back.client, back.init))).toEqual(["a", "b", "c"]);
  });

  it("Should count a since replay as delivered: a later connection without since does not get the queue again", async () => {
    const uid = "since-clears";
    await api("/push", { json: [1, 2, 3].map((data) => ({ uid, data })) });
    const resumed = await connect(uid, { extra: "since=0" });
    expect(dataOf(await resumed.client.waitFor(3))).toEqual([1, 2, 3]);
    resumed.client.close();
    await untilConnections(uid, 0);
    const plain = await connect(uid);
    expect(await receivedBefore(plain.client, plain.init)).toEqual([]);
  });

  it("Should replay a group's log after since, and not send it without since", async () => {
    const groups = ["replay-room"];
    await push({ group: "replay-room", data: "one" });
    await push({ group: "replay-room", data: "two" });
    const plain = await connect("g-plain", { groups, group: "replay-room" });
    const resumed = await connect("g-resumed", { groups, group: "replay-room", extra: "since=1" });
    expect(dataOf(await receivedBefore(resumed.client, resumed.init))).toEqual(["two"]);
    expect(await receivedBefore(plain.client, plain.init)).toEqual([]);
  });

  it("Should not log a ttl 0 message nor replay an expired one", async () => {
    await push({ uid: "ttl-user", data: "live only", ttl: 0 });
    await push({ uid: "ttl-user", data: "short", ttl: 1 });
    await push({ uid: "ttl-user", data: "kept" });
    // The expired row stays in the table (no alarm purges it): only the read leaves it out.
    await untilExpired("uid:ttl-user");
    const { client, init } = await connect("ttl-user", { extra: "since=0" });
    expect(dataOf(await receivedBefore(client, init))).toEqual(["kept"]);
  });

  it("Should overwrite an expired row with the next message instead of deleting it by alarm", async () => {
    await push({ uid: "purged", data: "short", ttl: 1 });
    const stub = stubOf("uid:purged");
    const count = () => runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM log").one().n);
    expect(await count()).toBe(1);
    // Expiry costs nothing of its own: no alarm, no delete.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    await untilExpired("uid:purged");
    await push({ uid: "purged", data: "next" });
    expect(await count()).toBe(1);
    const { client, init } = await connect("purged", { extra: "since=0" });
    expect(frames(await receivedBefore(client, init)).map((f) => [f.seq, f.data])).toEqual([[2, "next"]]);
  });

  it("Should deliver a push that races a replay exactly once, after the replay", async () => {
    await api("/push", { json: Array.from({ length: 200 }, (_, i) => ({ uid: "racer", data: i })) });
    const [conn] = await Promise.all([connect("racer", { extra: "since=0" }), push({ uid: "racer", data: "live" })]);
    await conn.client.waitFor(201, 15_000);
    const got = dataOf(await receivedBefore(conn.client, conn.init));
    expect(got).toHaveLength(201);
    expect(got.filter((d) => d === "live")).toHaveLength(1);
    expect(got.filter((d) => d !== "live")).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});

describe("Idempotent pushes", () => {
  it("Should not deliver a repeated id again and answer duplicate, even after eviction", async () => {
    await connect("idem");
    expect(await push({ uid: "idem", id: "order-42", data: 1 })).toMatchObject({ id: "order-42", delivered: 1 });
    expect(await push({ uid: "idem", id: "order-42", data: 1 })).toMatchObject({ duplicate: true, delivered: 0 });
    await evictDurableObject(stubOf("uid:idem"));
    expect(await push({ uid: "idem", id: "order-42", data: 1 })).toMatchObject({ duplicate: true });
    expect(await push({ uid: "idem", id: "order-43", data: 2 })).not.toHaveProperty("duplicate");
  });

  it("Should treat the same id for another target as a new message", async () => {
    expect(await push({ uid: "idem-a", id: "same", data: 1 })).not.toHaveProperty("duplicate");
    expect(await push({ uid: "idem-b", id: "same", data: 1 })).not.toHaveProperty("duplicate");
  });

  it("Should answer 1000 concurrent pushes to one room all delivered, in seq order", async () => {
    const { client } = await connect("stampede");
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => push({ uid: "stampede", data: i })));
    expect(answers.every((a) => a.delivered === 1)).toBe(true);
    const got = frames(await client.waitFor(1000, 20_000));
    expect(got.map((f) => f.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(got.map((f) => f.data)).size).toBe(1000);
  });
});
