/** The measured scenarios. Each returns its figures; `lost` counts deliveries that never came. */
import { Pusher, SocketPool, now, runAtRate, runConcurrent, settle, sleep, type PushHandler, type Stamp } from "./load";
import type { Server } from "./servers";
import { Recorder, percentiles, perSecond, round } from "./stats";

/** How big each scenario is (`--quick` shrinks all of them). */
export interface Sizes {
  clients: number;
  pushes: number;
  concurrency: number;
  rate: number;
  rateSeconds: number;
  batches: number;
  batchSize: number;
  groupSockets: number;
  fanoutRounds: number;
  broadcastRounds: number;
  replay: number;
  /** Pusher-protocol sockets in one channel, spread over the gateway shards. */
  pusherSockets: number;
  /** Sockets of the trigger-cost scenario (on a server of its own, counting DO requests). */
  pusherCostSockets: number;
}

export type Figures = Record<string, unknown> & { lost?: number; skipped?: string };

export const uidOf = (i: number): string => `bench-u${i}`;

/** Single-message pushes, each to one uid room, `concurrency` requests in flight. */
export async function unicast(server: Server, pool: SocketPool, size: Sizes): Promise<Figures> {
  const n = size.pushes;
  const rec = record(pool, "u", n, (_socket, stamp) => stamp.i);
  const pusher = new Pusher(server, size.concurrency);
  const errors = { count: 0 };
  const start = now();
  await runConcurrent(n, size.concurrency, (i) => push(pusher, { uid: uidOf(i % size.clients), data: stamp("u", i) }, errors));
  const sentMs = now() - start;
  await settle(() => rec.done, () => rec.count);
  pusher.close();
  return {
    clients: size.clients, pushes: n, concurrency: size.concurrency,
    pushesPerSec: perSecond(n, sentMs), deliveriesPerSec: perSecond(rec.count, rec.lastAt - start),
    latencyMs: percentiles(rec.latencies), errors: errors.count, lost: rec.lost, duplicates: rec.duplicates,
  };
}

/** Single-message pushes at a fixed rate (open loop): latency when the server is not saturated. */
export async function unicastRate(server: Server, pool: SocketPool, size: Sizes): Promise<Figures> {
  const n = size.rate * size.rateSeconds;
  const rec = record(pool, "r", n, (_socket, stamp) => stamp.i);
  const pusher = new Pusher(server, 64);
  const errors = { count: 0 };
  const start = now();
  const stalls = await runAtRate(n, size.rate, 256, (i) => push(pusher, { uid: uidOf(i % size.clients), data: stamp("r", i) }, errors));
  const sentMs = now() - start;
  await settle(() => rec.done, () => rec.count);
  pusher.close();
  return {
    clients: size.clients, rate: size.rate, seconds: size.rateSeconds, achievedPerSec: perSecond(n, sentMs),
    latencyMs: percentiles(rec.latencies), stalls, errors: errors.count, lost: rec.lost, duplicates: rec.duplicates,
  };
}

/** Batches (JSON arrays) of `batchSize` messages, each message to a different uid room. */
export async function batch(server: Server, pool: SocketPool, size: Sizes): Promise<Figures> {
  const n = size.batches * size.batchSize;
  const rec = record(pool, "b", n, (_socket, stamp) => stamp.i);
  const pusher = new Pusher(server, 4);
  const errors = { count: 0 };
  const start = now();
  await runConcurrent(size.batches, 4, async (b) => {
    const body = Array.from({ length: size.batchSize }, (_, j) => {
      const i = b * size.batchSize + j;
      return { uid: uidOf(i % size.clients), data: stamp("b", i) };
    });
    const answer = await pusher.post(body).catch(() => null);
    if (answer?.status !== 200) errors.count += size.batchSize;
    else errors.count += (answer.json.results as { ok: boolean }[]).filter((r) => !r.ok).length;
  });
  await settle(() => rec.done, () => rec.count);
  pusher.close();
  return {
    batches: size.batches, batchSize: size.batchSize, concurrency: 4,
    deliveriesPerSec: perSecond(rec.count, rec.lastAt - start), latencyMs: percentiles(rec.latencies),
    errors: errors.count, lost: rec.lost, duplicates: rec.duplicates,
  };
}

/** One push to a group room holding every socket of `pool`, `rounds` times, one after another. */
export async function fanout(server: Server, pool: SocketPool, group: string, rounds: number): Promise<Figures> {
  return pushSpread(server, pool, rounds, "f", (round) => ({ group, data: stamp("f", round) }));
}

/** `all:true` pushes over the uid rooms of `pool` (each with one socket). */
export async function broadcast(server: Server, pool: SocketPool, rounds: number): Promise<Figures> {
  if (server.kind === "baseline") return { skipped: "the thin baseline has no room directory" };
  const pusher = new Pusher(server, 1);
  const probe = await pusher.post({ all: true, data: { s: "probe", i: -1, t: now() } });
  pusher.close();
  if (probe.status !== 200) return { skipped: `all:true answered ${probe.status} ${probe.json?.error?.code ?? ""}`.trim() };
  await sleep(200);
  return pushSpread(server, pool, rounds, "a", (round) => ({ all: true, data: stamp("a", round) }));
}

// One `POST /push` per round.
async function pushSpread(server: Server, pool: SocketPool, rounds: number, tag: string, body: (round: number) => object): Promise<Figures> {
  const pusher = new Pusher(server, 1);
  try {
    return await timeSpread(pool, rounds, tag, async (round) => {
      const answer = await pusher.post(body(round)).catch(() => null);
      return { ok: answer?.status === 200, delivered: answer?.json?.delivered ?? 0 };
    });
  } finally {
    pusher.close();
  }
}

/** Sockets whose benchmark frames reach `handler` (native or Pusher clients). */
export interface Receivers {
  readonly sockets: readonly unknown[];
  handler: PushHandler | null;
}

/**
 * Sends one message per round (`send`, stamped with `stamp(tag, round)`) to every socket of
 * `pool`; figures of the median round by last delivery.
 */
export async function timeSpread(
  pool: Receivers, rounds: number, tag: string, send: (round: number) => Promise<{ ok: boolean; delivered?: number }>,
): Promise<Figures> {
  const sockets = pool.sockets.length;
  const results: { first: number; median: number; last: number; lost: number; reported: number }[] = [];
  let errors = 0;
  for (let r = 0; r < rounds; r++) {
    const rec = new Recorder(sockets);
    pool.handler = (socket, s, at) => s.s === tag && s.i === r && rec.hit(socket, at - s.t, at);
    const answer = await send(r);
    if (!answer.ok) errors++;
    await settle(() => rec.done, () => rec.count);
    const spread = percentiles(rec.latencies);
    results.push({ first: round(Math.min(...rec.latencies), 1), median: spread.p50, last: spread.max, lost: rec.lost, reported: answer.delivered ?? 0 });
    await sleep(100);
  }
  pool.handler = null;
  const byLast = [...results].sort((a, b) => a.last - b.last);
  const mid = byLast[Math.floor(byLast.length / 2)];
  return {
    sockets, rounds, firstMs: mid.first, medianMs: mid.median, lastMs: mid.last,
    lastMsPerRound: results.map((x) => x.last), reportedDelivered: mid.reported, errors,
    lost: results.reduce((sum, x) => sum + x.lost, 0),
  };
}

/** Queues `count` messages for an offline uid, then times their replay on connect with since=0. */
export async function replay(server: Server, count: number): Promise<Figures> {
  if (server.kind === "baseline") return { skipped: "the thin baseline keeps no log" };
  const uid = "bench-replay";
  const pusher = new Pusher(server, 1);
  for (let from = 0; from < count; from += 1000) {
    const body = Array.from({ length: Math.min(1000, count - from) }, (_, j) => ({ uid, data: stamp("q", from + j) }));
    const answer = await pusher.post(body);
    if (answer.status !== 200) throw new Error(`queueing for replay answered ${answer.status}`);
  }
  pusher.close();
  const rec = new Recorder(count);
  const pool = new SocketPool();
  pool.handler = (_socket, s, at) => s.s === "q" && rec.hit(s.i, at - s.t, at);
  const start = now();
  const connected = await SocketPool.connect(server, [{ uid, since: 0 }], 1, pool);
  const openMs = now() - start;
  await settle(() => rec.done, () => rec.count);
  await connected.close();
  return { messages: count, replayedPerSec: perSecond(rec.count, rec.lastAt - start), openMs: round(openMs, 1), totalMs: round(rec.lastAt - start, 1), lost: rec.lost };
}

function record(pool: SocketPool, tag: string, n: number, key: (socket: number, stamp: Stamp) => number): Recorder {
  const rec = new Recorder(n);
  pool.handler = (socket, s, at) => s.s === tag && rec.hit(key(socket, s), at - s.t, at);
  return rec;
}

/** A benchmark payload: tag, index, send time. */
export function stamp(s: string, i: number): Stamp {
  return { s, i, t: round(now(), 3) };
}

async function push(pusher: Pusher, body: object, errors: { count: number }): Promise<void> {
  const answer = await pusher.post(body).catch(() => null);
  if (answer?.status !== 200 || answer.json.ok !== true) errors.count++;
}
