/**
 * The measured scenarios. Each returns its figures and checks every delivery by message index:
 * `lost` counts the ones that never came, `duplicates` the ones that came again, `errors` pushes
 * not answered 200/ok (index.ts adds `strays`: frames no scenario expected).
 */
import { Pusher, SocketPool, now, runAtRate, runConcurrent, settle, sleep, type ClientSpec, type PushHandler, type Stamp } from "./load";
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
  /** gateway-uid: bound uids of each kind, pushes in all (half each), pushes per second. */
  gatewayClients: number;
  gatewayPushes: number;
  gatewayRate: number;
  /** Pusher-protocol sockets in one channel, spread over the gateway shards. */
  pusherSockets: number;
}

export type Figures = Record<string, unknown> & { lost?: number; duplicates?: number; errors?: number; skipped?: string };
type Checked = Figures & { lost: number; duplicates: number; errors: number };

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
    errors.count += await postBatch(pusher, body);
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

/**
 * `all:true` pushes over the uid rooms of `pool` (each with one socket). A first round warms the
 * directory and the rooms: checked like the others (a failing `all` is errors and lost, never a
 * skip), not timed.
 */
export async function broadcast(server: Server, pool: SocketPool, rounds: number): Promise<Figures> {
  if (server.kind !== "edgepush") return { skipped: "the baselines have no room directory" };
  const warm = await pushSpread(server, pool, 1, "w", () => ({ all: true, data: stamp("w", 0) }));
  await sleep(200);
  const timed = await pushSpread(server, pool, rounds, "a", (round) => ({ all: true, data: stamp("a", round) }));
  return {
    ...timed,
    errors: warm.errors + timed.errors, lost: warm.lost + timed.lost, duplicates: warm.duplicates + timed.duplicates,
  };
}

// One `POST /push` per round.
async function pushSpread(server: Server, pool: SocketPool, rounds: number, tag: string, body: (round: number) => object): Promise<Checked> {
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
): Promise<Checked> {
  const sockets = pool.sockets.length;
  const results: { first: number; median: number; last: number; reported: number }[] = [];
  let errors = 0;
  // Every delivery of every round, so one that comes late or again is counted, not taken for a stray.
  const all = new Recorder(rounds * sockets);
  let current = { round: -1, rec: new Recorder(sockets) };
  pool.handler = (socket, s, at) => {
    if (s.s !== tag || s.i < 0 || s.i >= rounds || !all.hit(s.i * sockets + socket, at - s.t, at)) return false;
    if (s.i === current.round) current.rec.hit(socket, at - s.t, at);
    return true;
  };
  for (let r = 0; r < rounds; r++) {
    const rec = new Recorder(sockets);
    current = { round: r, rec };
    const answer = await send(r);
    if (!answer.ok) errors++;
    await settle(() => rec.done, () => rec.count);
    const spread = percentiles(rec.latencies);
    results.push({ first: round(Math.min(...rec.latencies), 1), median: spread.p50, last: spread.max, reported: answer.delivered ?? 0 });
    await sleep(100);
  }
  pool.handler = null;
  const byLast = [...results].sort((a, b) => a.last - b.last);
  const mid = byLast[Math.floor(byLast.length / 2)];
  return {
    sockets, rounds, firstMs: mid.first, medianMs: mid.median, lastMs: mid.last,
    lastMsPerRound: results.map((x) => x.last), reportedDelivered: mid.reported, errors,
    lost: all.lost, duplicates: all.duplicates,
  };
}

/** Queues `count` messages for an offline uid, then times their replay on connect with since=0. */
export async function replay(server: Server, count: number): Promise<Figures> {
  if (server.kind !== "edgepush") return { skipped: "the baselines keep no log to replay" };
  const uid = "bench-replay";
  const pusher = new Pusher(server, 1);
  let errors = 0;
  for (let from = 0; from < count; from += 1000) {
    const body = Array.from({ length: Math.min(1000, count - from) }, (_, j) => ({ uid, data: stamp("q", from + j) }));
    errors += await postBatch(pusher, body);
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
  return {
    messages: count, replayedPerSec: perSecond(rec.count, rec.lastAt - start), openMs: round(openMs, 1),
    totalMs: round(rec.lastAt - start, 1), errors, lost: rec.lost, duplicates: rec.duplicates, strays: connected.strays,
  };
}

/**
 * One push to each socket of an idle `pool` (to each uid of `specs`, or once to each of their
 * groups): idle connections are still connections. Returns how that went, in the scenarios' terms.
 */
export async function reachIdle(server: Server, pool: SocketPool, specs: ClientSpec[]): Promise<Figures> {
  const rec = new Recorder(pool.sockets.length);
  pool.handler = (socket, s, at) => s.s === "idle" && rec.hit(socket, at - s.t, at);
  const pusher = new Pusher(server, 1);
  const groups = [...new Set(specs.flatMap((spec) => (spec.group ? [spec.group] : [])))];
  const messages = groups.length > 0
    ? groups.map((group) => ({ group, data: stamp("idle", 0) }))
    : specs.map((spec, i) => ({ uid: spec.uid, data: stamp("idle", i) }));
  let errors = 0;
  for (let from = 0; from < messages.length; from += 1000) errors += await postBatch(pusher, messages.slice(from, from + 1000));
  await settle(() => rec.done, () => rec.count);
  pusher.close();
  pool.handler = null;
  return { errors, lost: rec.lost, duplicates: rec.duplicates };
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

/** Posts `body` as one batch; how many of its messages were not answered ok. */
async function postBatch(pusher: Pusher, body: object[]): Promise<number> {
  const answer = await pusher.post(body).catch(() => null);
  if (answer?.status !== 200) return body.length;
  return (answer.json.results as { ok: boolean }[]).filter((r) => !r.ok).length;
}

async function push(pusher: Pusher, body: object, errors: { count: number }): Promise<void> {
  const answer = await pusher.post(body).catch(() => null);
  if (answer?.status !== 200 || answer.json.ok !== true) errors.count++;
}

/**
 * A push to a uid bound to a `/gateway` connection (room → gateway → socket) against one to a
 * uid whose `/ws` socket is in its own room (room → socket): the same paced pushes, interleaved,
 * one latency figure each. `pool` holds `clients` `/ws` sockets (uids `uidOf(i)`), then as many
 * gateway connections (uids `gatewayUidOf(i)`).
 */
export async function gatewayUid(server: Server, pool: SocketPool, size: Sizes): Promise<Figures> {
  if (server.kind === "baseline") return { skipped: "the thin baseline has no gateway" };
  const n = size.gatewayPushes - (size.gatewayPushes % 2);
  // Even indexes go to /ws uids, odd ones to gateway-bound uids.
  const all = new Recorder(n);
  const latency = { ws: [] as number[], gateway: [] as number[] };
  pool.handler = (_socket, s, at) => {
    if (s.s !== "gw") return false;
    const before = all.count;
    if (!all.hit(s.i, at - s.t, at)) return false;
    if (all.count > before) latency[s.i % 2 === 0 ? "ws" : "gateway"].push(at - s.t);
    return true;
  };
  const pusher = new Pusher(server, 16);
  const errors = { count: 0 };
  await runAtRate(n, size.gatewayRate, 64, (i) => {
    const uid = i % 2 === 0 ? uidOf((i >> 1) % size.gatewayClients) : gatewayUidOf((i >> 1) % size.gatewayClients);
    return push(pusher, { uid, data: stamp("gw", i), ttl: 0 }, errors);
  });
  await settle(() => all.done, () => all.count);
  pusher.close();
  pool.handler = null;
  const [wsMs, gatewayMs] = [percentiles(latency.ws), percentiles(latency.gateway)];
  return {
    clients: size.gatewayClients, pushes: n, rate: size.gatewayRate, wsLatencyMs: wsMs, gatewayLatencyMs: gatewayMs,
    gatewayToWsP50: wsMs.p50 > 0 ? round(gatewayMs.p50 / wsMs.p50, 2) : null,
    errors: errors.count, lost: all.lost, duplicates: all.duplicates,
  };
}

export const gatewayUidOf = (i: number): string => `bench-gw${i}`;
