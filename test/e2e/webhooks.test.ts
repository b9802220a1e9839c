/**
 * Webhooks end to end: a real `wrangler dev` delivering to a real HTTP receiver on 127.0.0.1.
 * Every /ws event type arrives signed, in order per connection; a reload sends no offline; a
 * 500 is retried with the same event ids; a dead receiver leaves push and connect latency as
 * they were; Pusher-format deliveries pass the `pusher` SDK's own webhook check.
 */
import Pusher from "pusher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgePush, verifyWebhook } from "../../sdk";
import { openClient, type TestClient } from "../node/sdk-helpers";
import { startReceiver, type Receiver } from "./webhook-receiver";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, backendPush, startWranglerDev, type DevServer } from "./wrangler-dev";

const WEBHOOK_SECRET = "e2e-webhook-secret";
const PUSHER = { appId: "4242", key: "e2e-pusher-key", secret: "e2e-pusher-secret" };

let server: DevServer;
let receiver: Receiver;
let sdk: EdgePush;
const open: TestClient[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  server = await startWranglerDev({
    WEBHOOK_URL: receiver.url("/hooks"),
    WEBHOOK_SECRET,
    PUSHER_APP_ID: PUSHER.appId, PUSHER_APP_KEY: PUSHER.key, PUSHER_APP_SECRET: PUSHER.secret,
    PUSHER_WEBHOOK_URL: receiver.url("/pusher"),
  });
  sdk = new EdgePush({ url: server.url, secret: E2E_PUSH_SECRET, tokenSecret: E2E_TOKEN_SECRET });
});
afterAll(async () => {
  for (const c of open) c.ws.close();
  await server?.stop();
  await receiver?.stop();
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A /ws client of `uid` (in `group` when given) and its clientId. */
async function connect(uid: string, group?: string): Promise<{ client: TestClient; clientId: string }> {
  const { token } = await sdk.signClientToken({ uid, groups: group ? [group] : [], ttl: 300 });
  const client = await openClient(`${server.wsUrl}/ws?token=${token}${group ? `&group=${group}` : ""}`);
  open.push(client);
  return { client, clientId: (await client.json(0)).clientId };
}

const events = () => receiver.events("/hooks");
const find = (pred: (e: Record<string, any>) => boolean) => events().find(pred);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe("webhooks from gateway connections", () => {
  it("Should tell the backend of a /gateway connection's open, message and close, with protocol gateway", async () => {
    const uid = unique("gwh");
    const { token } = await sdk.signClientToken({ uid, groups: [], ttl: 300 });
    const client = await openClient(`${server.wsUrl}/gateway?token=${token}`);
    open.push(client);
    const clientId = (await client.json(0)).client_id as string;
    client.ws.send(JSON.stringify({ type: "message", data: { text: "from gateway" } }));
    // The seeds' frames, GatewayWorker's onMessage's: whole, to the backend; the page hears nothing back.
    client.ws.send(JSON.stringify({ type: "say", roomId: "r1", content: "hi" }));
    client.ws.send(JSON.stringify({ type: "join", roomId: "r1" }));
    client.ws.send("plain text");
    const said = () => events().filter((e) => e.name === "client_message" && e.client_id === clientId);
    await receiver.until(() => said().length === 4 || undefined, "four client_message events");
    client.ws.close(1000, "bye");
    await receiver.until(() => find((e) => e.name === "connection_closed" && e.client_id === clientId), "connection_closed");
    const of = events().filter((e) => e.client_id === clientId);
    expect(of.map((e) => e.name)).toEqual(["connection_opened", ...Array(4).fill("client_message"), "connection_closed"]);
    expect(of[0]).toMatchObject({ uid, group: null, protocol: "gateway" });
    expect(of.slice(1, 5).map((e) => [e.uid, e.group, e.data])).toEqual([
      [uid, null, { text: "from gateway" }], [uid, null, { type: "say", roomId: "r1", content: "hi" }],
      [uid, null, { type: "join", roomId: "r1" }], [uid, null, "plain text"],
    ]);
    expect(of[5]).toMatchObject({ uid, protocol: "gateway", code: 1000 });
    expect(client.messages).toHaveLength(1); // the init frame only
  });
});

describe("webhooks from /ws connections", () => {
  it("Should deliver every event type, signed, in order per connection", async () => {
    const uid = unique("wh");
    const group = unique("room");
    const a = await connect(uid);
    const b = await connect(uid, group);
    b.client.ws.send(JSON.stringify({ type: "message", data: { text: "hello" } }));
    await receiver.until(() => find((e) => e.name === "client_message" && e.client_id === b.clientId), "client_message");
    expect(b.client.messages).toHaveLength(1); // init only: a message frame gets no error

    b.client.ws.close(1000, "bye");
    await receiver.until(() => find((e) => e.name === "group_vacated" && e.group === group), "group_vacated");
    a.client.ws.close(4999, "page closed");
    const offline = await receiver.until(() => find((e) => e.name === "uid_offline" && e.uid === uid), "uid_offline", 30_000);

    for (const d of receiver.deliveries.filter((x) => x.path === "/hooks")) {
      expect(d.headers["content-type"]).toBe("application/json");
      const delivery = await verifyWebhook({ secret: WEBHOOK_SECRET, headers: d.headers as Record<string, string>, body: d.body });
      expect(delivery.time_ms).toBe(Number(d.headers["x-edgepush-timestamp"]));
    }
    const of = (clientId: string) => events().filter((e) => e.client_id === clientId);
    expect(of(a.clientId)).toEqual([
      { id: expect.any(String), name: "connection_opened", time_ms: expect.any(Number), client_id: a.clientId, uid, group: null, protocol: "ws" },
      { id: expect.any(String), name: "connection_closed", time_ms: expect.any(Number), client_id: a.clientId, uid, group: null, protocol: "ws", code: 4999 },
    ]);
    expect(of(b.clientId).map((e) => e.name)).toEqual(["connection_opened", "client_message", "connection_closed"]);
    expect(of(b.clientId)[0]).toMatchObject({ group, protocol: "ws" });
    expect(of(b.clientId)[1]).toMatchObject({ uid, group, data: { text: "hello" } });
    expect(of(b.clientId)[2]).toMatchObject({ code: 1000 });
    const presence = events().filter((e) => e.uid === uid && !e.client_id).map((e) => [e.name, e.group]);
    expect(presence).toEqual([["uid_online", undefined], ["member_added", group], ["member_removed", group], ["uid_offline", undefined]]);
    expect(events().filter((e) => e.group === group && !e.uid).map((e) => e.name)).toEqual(["group_occupied", "group_vacated"]);
    // Offline waited WEBHOOK_OFFLINE_DELAY_S (3 s by default) after the last connection went.
    expect(offline.time_ms - of(a.clientId)[1].time_ms).toBeGreaterThanOrEqual(2900);
    const ids = events().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("Should send no uid_offline for a page reload within the delay, and one after the last close", async () => {
    const uid = unique("reload");
    const first = await connect(uid);
    await receiver.until(() => find((e) => e.name === "uid_online" && e.uid === uid), "uid_online");
    first.client.ws.close(1000, "reload");
    const second = await connect(uid);
    await receiver.until(() => find((e) => e.name === "connection_closed" && e.client_id === first.clientId), "the first close");
    await sleep(4500);
    expect(events().filter((e) => e.uid === uid && !e.client_id).map((e) => e.name)).toEqual(["uid_online"]);
    second.client.ws.close(1000);
    await receiver.until(() => find((e) => e.name === "uid_offline" && e.uid === uid), "uid_offline", 30_000);
  });

  it("Should deliver each event again, with the same id, after a 500, and lose none", async () => {
    const uid = unique("retry");
    const start = receiver.deliveries.length;
    receiver.mode = { kind: "fail", status: 500, next: 1, path: "/hooks" };
    const { clientId } = await connect(uid);
    const answered = () =>
      receiver.deliveries.slice(start).filter((d) => d.path === "/hooks" && d.status === 200).flatMap((d) => JSON.parse(d.body).events);
    await receiver.until(() => answered().some((e) => e.name === "uid_online" && e.uid === uid) && answered().some((e) => e.client_id === clientId), "both events answered 200");
    const failed = receiver.deliveries.slice(start).find((d) => d.status === 500)!;
    expect(failed).toBeDefined();
    const retried = JSON.parse(failed.body).events as Record<string, any>[];
    expect(retried.length).toBeGreaterThan(0);
    await receiver.until(() => retried.every((event) => answered().some((e) => e.id === event.id)), "the failed events again");
    for (const event of retried) expect(answered().filter((e) => e.id === event.id)).toEqual([event]);
  });
});

describe("webhooks in Pusher's format", () => {
  it("Should deliver channel and member events that the pusher SDK's webhook helper verifies", async () => {
    const uid = unique("pu");
    const channel = unique("presence-wh");
    const pusher = new Pusher({ ...PUSHER, useTLS: false });
    const { client } = await connect(uid, channel);
    const pusherEvents = () => receiver.deliveries.filter((d) => d.path === "/pusher").flatMap((d) => JSON.parse(d.body).events);
    await receiver.until(() => pusherEvents().some((e) => e.name === "member_added" && e.channel === channel), "member_added");
    client.ws.close(1000);
    // Channel events come from the channel's directory shard, member events from the user's:
    // each kind is in order, the two kinds need not be (so wait for both last ones).
    const mine = () => pusherEvents().filter((e) => e.channel === channel);
    await receiver.until(() => mine().some((e) => e.name === "channel_vacated") && mine().some((e) => e.name === "member_removed"),
      "channel_vacated and member_removed");
    const ours = mine();
    expect(ours.filter((e) => e.name.startsWith("channel_"))).toEqual([{ name: "channel_occupied", channel }, { name: "channel_vacated", channel }]);
    expect(ours.filter((e) => e.name.startsWith("member_"))).toEqual([
      { name: "member_added", channel, user_id: uid }, { name: "member_removed", channel, user_id: uid },
    ]);
    for (const d of receiver.deliveries.filter((x) => x.path === "/pusher")) {
      const headers = d.headers as Record<string, string>;
      expect(headers["x-pusher-key"]).toBe(PUSHER.key);
      expect(pusher.webhook({ headers, rawBody: d.body }).isValid()).toBe(true);
      expect(pusher.webhook({ headers, rawBody: d.body.replace("}", ' }') }).isValid()).toBe(false);
      expect(pusher.webhook({ headers, rawBody: d.body }).getEvents().length).toBeGreaterThan(0);
    }
  });
});

describe("webhooks never slow the push path", () => {
  /** Push latencies to one connected client while other clients churn and talk (webhook traffic). */
  async function measure(target: TestClient, uid: string): Promise<{ push: number; connect: number }> {
    const pushes: number[] = [];
    const connects: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      const other = await connect(unique("churn"));
      connects.push(performance.now() - t0);
      other.client.ws.send(JSON.stringify({ type: "message", data: i }));
      const seen = target.messages.length;
      const t1 = performance.now();
      await backendPush(server, { uid, data: i, ttl: 0 });
      await target.next(seen + 1);
      pushes.push(performance.now() - t1);
      other.client.ws.close();
    }
    return { push: median(pushes), connect: median(connects) };
  }

  it("Should keep push and connect latency with a receiver that never answers", async () => {
    const uid = unique("latency");
    const { client } = await connect(uid);
    await sleep(500);
    const healthy = await measure(client, uid);
    receiver.mode = { kind: "hang" };
    const before = receiver.deliveries.length;
    await sleep(500);
    const dead = await measure(client, uid);
    const hung = receiver.deliveries.slice(before).filter((d) => d.status === 0).length;
    receiver.mode = { kind: "ok" };
    console.log(`push median ${healthy.push.toFixed(1)} ms healthy, ${dead.push.toFixed(1)} ms dead; connect ${healthy.connect.toFixed(1)} / ${dead.connect.toFixed(1)} ms; ${hung} deliveries hung`);
    expect(hung).toBeGreaterThan(0); // the dead receiver really was being called
    // Waiting on the dead receiver would cost DELIVERY_TIMEOUT_MS (10 s); a busy machine costs tens of ms.
    expect(dead.push).toBeLessThan(2 * healthy.push + 250);
    expect(dead.connect).toBeLessThan(2 * healthy.connect + 500);
  });
});
