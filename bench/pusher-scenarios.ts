/** The Pusher scenarios: a channel's fan-out over the gateway shards, and a trigger's cost. */
import { settle, sleep } from "./load";
import { Trigger, type PusherSocketPool } from "./pusher-load";
import { stamp, timeSpread, type Figures } from "./scenarios";
import type { Server } from "./servers";
import { Recorder } from "./stats";

/** One REST trigger per round to the channel every socket of `pool` subscribes to. */
export async function pusherFanout(server: Server, pool: PusherSocketPool, channel: string, rounds: number, tag = "p"): Promise<Figures> {
  const trigger = new Trigger(server);
  try {
    const figures = await timeSpread(pool, rounds, tag, async (round) => ({ ok: (await trigger.send(channel, "bench", stamp(tag, round))) === 200 }));
    // A Pusher trigger answers `{}`: no delivered count to report.
    delete figures.reportedDelivered;
    return { ...figures, gateways: pool.gateways };
  } finally {
    trigger.close();
  }
}

/** One trigger that must reach every socket: the check beside a memory figure. */
export async function pusherReach(server: Server, pool: PusherSocketPool, channel: string): Promise<Pick<Figures, "errors" | "lost" | "duplicates">> {
  const { errors, lost, duplicates } = await pusherFanout(server, pool, channel, 1, "r");
  return { errors, lost, duplicates };
}

/**
 * Durable Object requests per trigger, as workerd's tail events count them: the room's `push`
 * plus one `deliver` per gateway holding subscribers is the expectation (`1 + gateways`).
 * Alarms that happen to fire inside a round are listed apart; everything else counts.
 */
export async function pusherTriggerCost(server: Server, pool: PusherSocketPool, channel: string, rounds: number): Promise<Figures> {
  const counter = server.invocations;
  if (!counter) return { skipped: "the server was started without the invocation counter" };
  const trigger = new Trigger(server);
  const perRound: number[] = [];
  const calls: Record<string, number> = {};
  let alarms = 0;
  let lost = 0;
  let duplicates = 0;
  let errors = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      await counter.take();
      const rec = new Recorder(pool.sockets.length);
      pool.handler = (socket, s, at) => s.s === "c" && s.i === r && rec.hit(socket, 0, at);
      if ((await trigger.send(channel, "bench", stamp("c", r))) !== 200) errors++;
      await settle(() => rec.done, () => rec.count);
      lost += rec.lost;
      duplicates += rec.duplicates;
      let requests = 0;
      for (const [call, n] of Object.entries(await counter.take())) {
        if (call.startsWith("Worker.")) continue;
        if (call.endsWith(".alarm")) alarms += n;
        else {
          requests += n;
          calls[call] = (calls[call] ?? 0) + n;
        }
      }
      perRound.push(requests);
      await sleep(50);
    }
  } finally {
    pool.handler = null;
    trigger.close();
  }
  const expected = 1 + pool.gateways;
  return {
    sockets: pool.sockets.length, gatewaysWithSubscribers: pool.gateways, triggers: rounds,
    doRequestsPerTrigger: Math.max(...perRound), expected, perRound, calls, alarmsDuringRounds: alarms,
    countedBy: "workerd tail events (bench/do-count.ts)", errors, lost, duplicates,
  };
}
