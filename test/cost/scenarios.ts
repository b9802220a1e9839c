/**
 * Each event of the cost report, driven through the real Worker: a warm deployment (the room and
 * its directory shard already exist, as they do for a returning user), then the event, measured.
 */
import { env } from "cloudflare:test";
import type { EventCost } from "../../cost/model";
import { shardName, shardOf } from "../../src/directory/config";
import { api, connect, push } from "../helpers";
import { gatewayConnect, pusherConnect, pusherSubscribe } from "../gateway-helpers";
import { alarmOf, evict, fireAlarm, measure, per, sleep } from "./meter-helpers";

const HOUR_MS = 3_600_000;
/** DIRECTORY_SHARDS of the cost run (the production default). */
const SHARDS = Number(env.DIRECTORY_SHARDS ?? 16);

type Connection = Awaited<ReturnType<typeof connect>>;

/** Closes a client and waits for the room's answer to the close (it has seen the socket go). */
async function closeAndWait(conn: Connection, _uid?: string): Promise<void> {
  conn.client.close();
  await conn.client.closed();
}

/** Runs every alarm `room` has pending (as they would fire later on), up to three. */
async function drainAlarms(ns: "ROOMS" | "DIRECTORY", name: string): Promise<void> {
  for (let i = 0; i < 3 && (await alarmOf(ns, name)) !== null; i++) await fireAlarm(ns, name);
}

/** A uid that had a session before, its room since evicted: what a returning user finds. */
async function returningUid(uid: string): Promise<void> {
  const before = await connect(uid);
  await closeAndWait(before, uid);
  await drainAlarms("ROOMS", `uid:${uid}`);
  await sleep(200);
  await evict("ROOMS", `uid:${uid}`);
}

/** connect (the uid's first socket), then close (its last), the room evicted in between sessions. */
export async function connectAndClose(uid: string): Promise<{ connect: EventCost; close: EventCost }> {
  await returningUid(uid);
  let conn: Connection | undefined;
  const connectCost = await measure(async () => (conn = await connect(uid)));
  const closeCost = await measure(async () => {
    await closeAndWait(conn!, uid);
    await drainAlarms("ROOMS", `uid:${uid}`);
  });
  return { connect: connectCost, close: closeCost };
}

/** A page reload: the uid's only socket closes and a new one connects within a second. */
export async function reconnect(uid: string): Promise<EventCost> {
  await returningUid(uid);
  const first = await connect(uid);
  return measure(async () => {
    first.client.close();
    await first.client.closed(); // the room has seen the close before the new socket comes
    const again = await connect(uid);
    again.client.close();
    await sleep(100);
  });
}

/** The first connection ever of a uid (its room and directory entries made): once per uid. */
export async function firstConnect(uid: string): Promise<EventCost> {
  let conn: Connection | undefined;
  const cost = await measure(async () => (conn = await connect(uid)));
  await closeAndWait(conn!, uid);
  return cost;
}

/** A connect that delivers one queued message, and its close with nothing pushed in between, beyond plain connect + close. */
export async function takeQueue(uid: string, plain: EventCost[]): Promise<EventCost> {
  await returningUid(uid);
  await push({ uid, data: "queued while offline", id: `${uid}-q` });
  await evict("ROOMS", `uid:${uid}`);
  const cost = await measure(async () => {
    const conn = await connect(uid);
    await conn.client.waitFor(1);
    await closeAndWait(conn, uid);
    await drainAlarms("ROOMS", `uid:${uid}`);
  });
  return minus(cost, per(plain));
}

function minus(a: EventCost, b: EventCost): EventCost {
  const out = per([a]);
  out.workerRequests -= b.workerRequests;
  out.doRequests -= b.doRequests;
  out.wsEvents -= b.wsEvents;
  out.rowsWritten -= b.rowsWritten;
  out.rowsRead -= b.rowsRead;
  return out;
}

/** One push to an online (or offline) uid whose room exists. */
export async function message(uid: string, body: Record<string, unknown>, online: boolean): Promise<EventCost> {
  await returningUid(uid);
  const conn = online ? await connect(uid) : null;
  await push({ uid, data: "warm-up", ttl: 0 });
  const cost = await measure(() => push({ uid, ...body }));
  if (conn) await closeAndWait(conn, uid);
  return cost;
}

/** What a logged message (ttl 1 s) costs later: the expiry work its room does, alarms included. */
export async function expiry(uid: string): Promise<EventCost> {
  await returningUid(uid);
  await push({ uid, data: "warm-up", ttl: 0 });
  await drainAlarms("ROOMS", `uid:${uid}`);
  const pushed = await measure(() => push({ uid, data: "short-lived", id: `${uid}-e`, ttl: 1 }));
  await sleep(1100);
  const later = await measure(() => drainAlarms("ROOMS", `uid:${uid}`));
  // The next message after the expiry: what reusing (or not) the expired row costs beyond a message.
  const next = await measure(() => push({ uid, data: "next", id: `${uid}-n` }));
  return minus(per([later, next]), pushed);
}

/** One online idle user for an hour: its room's alarms (and its shard's, shared by its rooms) at their rate. */
export async function idleHour(uid: string): Promise<EventCost> {
  await returningUid(uid);
  const conn = await connect(uid);
  await sleep(300);
  const parts: EventCost[] = [];
  for (const [ns, name, share] of [["ROOMS", `uid:${uid}`, 1], ["DIRECTORY", shardName(shardOf(`uid:${uid}`, SHARDS)), 0]] as const) {
    const at = await alarmOf(ns, name);
    if (at === null) continue;
    const perHour = HOUR_MS / Math.max(1000, at - Date.now());
    const fired = await measure(() => fireAlarm(ns, name));
    // A shard's alarm serves every room of the shard: this user's share of it rounds to nothing.
    if (share > 0) parts.push(per([fired], 1 / perHour));
  }
  await closeAndWait(conn, uid);
  return per(parts);
}

/** A batch of `n` messages, each to another online uid: the cost per message. */
export async function batch(prefix: string, n: number): Promise<EventCost> {
  const uids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  for (const uid of uids) await returningUid(uid);
  const conns: Connection[] = [];
  for (const uid of uids) conns.push(await connect(uid));
  const cost = await measure(() => api("/push", { json: uids.map((uid) => ({ uid, data: "b", id: `${uid}-b` })) }));
  for (let i = 0; i < n; i++) await closeAndWait(conns[i], uids[i]);
  return per([cost], n);
}

/** `all` over `n` live uid rooms (besides whatever else is live): the cost per room reached. */
export async function broadcast(prefix: string, n: number): Promise<EventCost> {
  const uids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const conns: Connection[] = [];
  for (const uid of uids) conns.push(await connect(uid));
  // Rooms emptied since their shards last heard of them are pushed once (each answers it is
  // empty, and its shard stops pushing it): this first push pays for them, the second is measured.
  await push({ all: true, data: "first", ttl: 0 });
  let rooms = 0;
  const cost = await measure(async () => {
    const answer = await push({ all: true, data: "to all", id: `${prefix}-all` });
    rooms = answer.queued;
  });
  for (let i = 0; i < n; i++) await closeAndWait(conns[i], uids[i]);
  return per([cost], rooms);
}

/** A client's `publish` frame in a group room of `members` sockets. */
export async function publish(group: string, members: number): Promise<EventCost> {
  const conns: Connection[] = [];
  for (let i = 0; i < members; i++) conns.push(await connect(`${group}-m${i}`, { groups: [group], group }));
  await sleep(200);
  const cost = await measure(async () => {
    conns[0].client.send(JSON.stringify({ type: "publish", data: "hi" }));
    await conns[members - 1].client.waitFor(1);
  });
  for (const c of conns) c.client.close();
  return cost;
}

/** The gateway tier: a `/gateway` connect with a uid and a group, a Pusher subscribe, a push to it, the closes. */
export async function gateway(prefix: string): Promise<Record<string, EventCost>> {
  const [uid, group, channel] = [`${prefix}-u`, `${prefix}-g`, `${prefix}-channel`];
  // A returning user: the gateway, its rooms and their tables exist already.
  const warm = await gatewayConnect(uid, { groups: [group] });
  const warmPusher = await pusherConnect();
  await pusherSubscribe(warmPusher.client, channel);
  for (const c of [warm.client, warmPusher.client]) {
    c.close();
    await c.closed();
  }
  await sleep(300);
  let gw: Awaited<ReturnType<typeof gatewayConnect>> | undefined;
  const gatewayConnectCost = await measure(async () => (gw = await gatewayConnect(uid, { groups: [group] })));
  const pusher = await pusherConnect();
  const subscribe = await measure(() => pusherSubscribe(pusher.client, channel));
  const trigger = await measure(async () => {
    await push({ group: channel, data: { n: 1 }, event: "cost-event", ttl: 0 });
    await pusher.client.waitFor(1);
  });
  const gatewayClose = await measure(async () => {
    for (const c of [gw!.client, pusher.client]) {
      c.close();
      await c.closed();
    }
  });
  return { gatewayConnect: gatewayConnectCost, gatewaySubscribe: subscribe, gatewayTrigger: trigger, gatewayClose: per([gatewayClose], 2) };
}
