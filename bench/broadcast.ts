/**
 * Broadcast benchmark: ROOMS uid rooms (one socket each) on a real `wrangler dev`, then ROUNDS
 * `{"all":true}` pushes; prints JSON with the time from each push to its last delivery.
 *
 *   npx tsx bench/broadcast.ts                         # 1,000 rooms, 5 rounds, default shards
 *   ROOMS=2000 SHARDS=32 FANOUT=100 TTL=0 npx tsx bench/broadcast.ts
 *
 * Round 1 reaches rooms that hibernated while the others connected (a cold wake each); later
 * rounds follow at once, so they measure warm rooms.
 */
import { sign } from "hono/jwt";
import { performance } from "node:perf_hooks";
// `ws` rather than Node's global WebSocket: a thousand sockets at a fraction of the CPU.
import WebSocket from "ws";
import { E2E_PUSH_SECRET, E2E_TOKEN_SECRET, startWranglerDev, type DevServer } from "../test/e2e/wrangler-dev";

const ROOMS = Number(process.env.ROOMS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TTL = process.env.TTL === undefined ? undefined : Number(process.env.TTL);
const CONNECT_CONCURRENCY = 50;
const ROUND_TIMEOUT_MS = 60_000;
const TOTAL_TIMEOUT_MS = 10 * 60_000;

interface Round {
  /** POST /push until its answer (the Worker waits for every shard). */
  answerMs: number;
  /** POST /push until the last of ROOMS sockets received the message. */
  lastDeliveryMs: number;
  /** POST /push until the first socket received it. */
  firstDeliveryMs: number;
  /** Median socket's delivery time. */
  medianDeliveryMs: number;
  delivered: number;
}

async function main(): Promise<void> {
  const vars: Record<string, string> = {};
  if (process.env.SHARDS) vars.DIRECTORY_SHARDS = process.env.SHARDS;
  if (process.env.FANOUT) vars.BROADCAST_FANOUT = process.env.FANOUT;
  const server = await startWranglerDev(vars);
  const sockets: WebSocket[] = [];
  const watchdog = setTimeout(() => {
    console.error("benchmark took over 10 minutes; giving up");
    void server.stop().finally(() => process.exit(1));
  }, TOTAL_TIMEOUT_MS);
  try {
    // received[round][socket] = ms after the round's push started
    const received: number[][] = [];
    let roundStart = 0;
    const t0 = performance.now();
    await pool(ROOMS, CONNECT_CONCURRENCY, async (i) => {
      sockets[i] = await open(server, `bench-${i}`, (round) => {
        received[round] ??= [];
        received[round][i] ??= performance.now() - roundStart;
      });
    });
    const connectMs = performance.now() - t0;
    const stats = await api(server, "GET", "/stats");

    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      roundStart = performance.now();
      const answer = await api(server, "POST", "/push", { all: true, data: { round }, ttl: TTL });
      const answerMs = performance.now() - roundStart;
      await waitFor(() => (received[round]?.filter((t) => t !== undefined).length ?? 0) >= ROOMS, ROUND_TIMEOUT_MS);
      const times = received[round].filter((t) => t !== undefined).sort((a, b) => a - b);
      rounds.push({
        answerMs: ms(answerMs),
        firstDeliveryMs: ms(times[0]),
        lastDeliveryMs: ms(times[times.length - 1]),
        medianDeliveryMs: ms(times[Math.floor(times.length / 2)]),
        delivered: answer.delivered,
      });
    }
    const last = rounds.map((r) => r.lastDeliveryMs).sort((a, b) => a - b);
    console.log(JSON.stringify({
      scenario: "broadcast-all",
      server: "wrangler dev (local workerd)",
      rooms: ROOMS,
      shards: Number(process.env.SHARDS ?? 16),
      fanout: Number(process.env.FANOUT ?? 500),
      ttl: TTL ?? "default (86400 s in uid rooms: one log row per room)",
      connectMs: ms(connectMs),
      stats,
      rounds,
      lastDeliveryMedianMs: last[Math.floor(last.length / 2)],
    }, null, 2));
  } finally {
    clearTimeout(watchdog);
    for (const ws of sockets) ws?.terminate();
    await server.stop();
  }
}

/** Opens a uid connection; resolves after its init frame; `onPush(round)` on each broadcast. */
async function open(server: DevServer, uid: string, onPush: (round: number) => void): Promise<WebSocket> {
  const token = await sign({ sub: uid, exp: Math.floor(Date.now() / 1000) + 3600 }, E2E_TOKEN_SECRET, "HS256");
  const ws = new WebSocket(`${server.wsUrl}/ws?token=${token}`);
  return new Promise((resolve, reject) => {
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw));
      if (frame.type === "init") resolve(ws);
      else if (frame.type === "push" && typeof frame.data?.round === "number") onPush(frame.data.round);
    });
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`${uid} closed ${code} before init`)));
  });
}

async function api(server: DevServer, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${E2E_PUSH_SECRET}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path} ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

async function pool(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function waitFor(ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`not every socket got the broadcast within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const ms = (value: number) => Math.round(value * 10) / 10;

await main();
