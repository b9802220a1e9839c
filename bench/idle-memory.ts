/**
 * What one more idle socket costs on a fresh server, by one method for edgepush's Pusher sockets
 * and for the thin baseline's floor: a first fifth of the sockets wakes every Durable Object they
 * go to, then the server's RSS growth over the other four fifths, per socket.
 */
import { SocketPool, now, sleep, type ClientSpec } from "./load";
import { PusherSocketPool } from "./pusher-load";
import { pusherReach } from "./pusher-scenarios";
import { reachIdle, type Figures } from "./scenarios";
import type { Server } from "./servers";
import { perSecond, round } from "./stats";

/** Group rooms the floor spreads its sockets over: as many as the gateway shards (GATEWAY_SHARDS' default). */
export const FLOOR_ROOMS = 16;

interface Growth {
  connections: number;
  measured: number;
  kbPerConnection: number;
  /** Per socket over all of them, the objects' wake-up included. */
  kbPerConnectionWithShards: number;
  wakeMB: number;
  connectsPerSec: number;
}

/**
 * Opens `total` sockets with `open(count)` in two steps, each followed by `settleMs` of quiet,
 * and measures the RSS the second step (the last four fifths) added.
 */
export async function idleGrowth(server: Server, total: number, settleMs: number, open: (count: number) => Promise<void>): Promise<Growth> {
  const start = server.rss();
  const warm = Math.ceil(total / 5);
  await open(warm);
  await sleep(settleMs);
  const before = server.rss();
  const started = now();
  await open(total - warm);
  const connectMs = now() - started;
  await sleep(settleMs);
  const after = server.rss();
  const measured = total - warm;
  return {
    connections: total, measured, kbPerConnection: kb((after - before) / measured),
    kbPerConnectionWithShards: kb((after - start) / total), wakeMB: mb(before - start),
    connectsPerSec: perSecond(measured, connectMs),
  };
}

/** `total` idle Pusher sockets subscribed to `channel`, spread over the gateway shards at random. */
export async function pusherIdleMemory(server: Server, total: number, channel: string, settleMs: number): Promise<Figures> {
  const pool = new PusherSocketPool();
  const { wakeMB, ...growth } = await idleGrowth(server, total, settleMs, (count) => PusherSocketPool.connect(server, count, channel, pool).then(() => undefined));
  // After the measurement, every socket still gets a trigger: the idle figure's check.
  const reach = await pusherReach(server, pool, channel);
  await pool.close();
  return { ...growth, gatewayWakeMB: wakeMB, gateways: pool.gateways, ...reach, strays: pool.strays };
}

/**
 * `total` idle `/ws` sockets over FLOOR_ROOMS group rooms (socket i in room i mod FLOOR_ROOMS), as
 * the Pusher sockets are spread over the shards: on the thin baseline, workerd's own cost of a
 * hibernatable socket in a shared Durable Object.
 */
export async function groupIdleMemory(server: Server, total: number, settleMs: number, rooms = FLOOR_ROOMS): Promise<Figures> {
  const specs: ClientSpec[] = Array.from({ length: total }, (_, i) => ({ uid: `bench-floor${i}`, group: `bench-floor-${i % rooms}` }));
  const pool = new SocketPool();
  let next = 0;
  const { wakeMB, ...growth } = await idleGrowth(server, total, settleMs, async (count) => {
    await SocketPool.connect(server, specs.slice(next, next + count), 100, pool);
    next += count;
  });
  const reach = await reachIdle(server, pool, specs);
  await pool.close();
  return { ...growth, roomWakeMB: wakeMB, rooms, ...reach, strays: pool.strays };
}

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const kb = (bytes: number) => round(bytes / 1024, 1);
