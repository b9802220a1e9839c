/**
 * `npm run bench`: starts edgepush (plain workerd by default, `--target wrangler` for `wrangler
 * dev`), the thin baseline and the durable baseline (the thin one plus one SQLite row per push, on
 * the write scenarios unicast and batch), runs bounded scenarios against 127.0.0.1 and prints one JSON line
 * per scenario on stdout (progress goes to stderr). `--quick` is the CI smoke size.
 *
 * Flags: --quick, --target serve|wrangler, --only a,b (scenario names), --no-baseline,
 * --clients N, --pushes N, --concurrency N, --sockets N (group size), --pusher-sockets N (channel size), --data DIR (where the
 * servers' SQLite files go; the file system matters, see the README), --keep (keep DIR's files).
 */
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { abuse, type AbuseSizes } from "./abuse";
import { Pusher, SocketPool, now, sleep, type ClientSpec } from "./load";
import { PusherSocketPool } from "./pusher-load";
import { FLOOR_ROOMS, groupIdleMemory, pusherIdleMemory } from "./idle-memory";
import { pusherFanout, pusherTriggerCost } from "./pusher-scenarios";
import {
  broadcast, batch, fanout, gatewayUid, gatewayUidOf, reachIdle, replay, unicast, unicastRate, uidOf, type Figures, type Sizes,
} from "./scenarios";
import { buildBaseline, buildEdgepush, startServe, startWrangler, type Server } from "./servers";
import { perSecond, round } from "./stats";

const FULL: Sizes = {
  clients: 1000, pushes: 10_000, concurrency: 32, rate: 500, rateSeconds: 6, batches: 200, batchSize: 100,
  groupSockets: 5000, fanoutRounds: 9, broadcastRounds: 5, replay: 5000,
  gatewayClients: 200, gatewayPushes: 2000, gatewayRate: 200, pusherSockets: 5000,
};
const QUICK: Sizes = {
  clients: 40, pushes: 300, concurrency: 8, rate: 200, rateSeconds: 1, batches: 6, batchSize: 20,
  groupSockets: 200, fanoutRounds: 3, broadcastRounds: 2, replay: 300,
  gatewayClients: 20, gatewayPushes: 200, gatewayRate: 100, pusherSockets: 200,
};
const ABUSE: { full: AbuseSizes; quick: AbuseSizes } = {
  // 12 s: longer than a flooder is refused after its room resets (CUT_OFF_MS), so it floods twice.
  full: { rate: 100, seconds: 12, slowBytes: 16 * 1024, slowRate: 50 },
  quick: { rate: 50, seconds: 2, slowBytes: 16 * 1024, slowRate: 50 },
};
const SCENARIOS = [
  "unicast", "unicast-rate", "batch", "broadcast", "fanout", "idle-memory", "replay", "gateway-uid",
  "pusher-fanout", "pusher-idle-memory", "pusher-trigger-cost", "abuse",
] as const;
type Scenario = (typeof SCENARIOS)[number];
type Results = Map<Scenario, Figures>;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    target: { type: "string", default: "serve" },
    "no-baseline": { type: "boolean", default: false },
    clients: { type: "string" },
    pushes: { type: "string" },
    concurrency: { type: "string" },
    sockets: { type: "string" },
    "pusher-sockets": { type: "string" },
    only: { type: "string" },
    data: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
if (values.target !== "serve" && values.target !== "wrangler") throw new Error("--target is serve or wrangler");
const size: Sizes = { ...(values.quick ? QUICK : FULL) };
if (values.clients) size.clients = Number(values.clients);
if (values.pushes) size.pushes = Number(values.pushes);
if (values.concurrency) size.concurrency = Number(values.concurrency);
if (values.sockets) size.groupSockets = Number(values.sockets);
if (values["pusher-sockets"]) size.pusherSockets = Number(values["pusher-sockets"]);

const wanted = new Set<string>(values.only ? values.only.split(",") : SCENARIOS);
const unknown = [...wanted].filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) throw new Error(`--only: unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
const want = (...names: Scenario[]) => names.some((name) => wanted.has(name));
/** The scenarios the durable baseline runs: those whose figure is bound by the write per push. */
const DURABLE: Scenario[] = ["unicast", "batch"];

const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);
// Builds, logs and the servers' Durable Object storage (SQLite files) all live here.
const work = mkdtempSync(join(values.data ?? tmpdir(), "edgepush-bench-"));
const storage = fsType(work);
const pause = () => sleep(values.quick ? 300 : 2000);

/** Runs the chosen scenarios against one server, in an order that keeps their sockets apart. */
async function measure(server: Server): Promise<Results> {
  // The durable baseline runs the write scenarios only.
  const want = (...names: Scenario[]) => names.some((name) => wanted.has(name) && (server.kind !== "durable" || DURABLE.includes(name)));
  const out: Results = new Map();
  const warm = new Pusher(server, 1);
  await warm.post({ uid: "bench-warm", data: { s: "warm", i: 0, t: 0 } });
  warm.close();
  await sleep(500);
  const memory: Figures = { rssStartMB: mb(server.rss()) };
  // The idle pools' check that every socket still gets a push (idle-memory's lost, duplicates, errors).
  const idle: Figures[] = [];
  let idleStrays = 0;
  /** Runs `run` on `pool`; its figures with the frames nobody expected meanwhile (should be 0). */
  const counted = async (pool: SocketPool, run: () => Promise<Figures>): Promise<Figures> => {
    const before = pool.strays;
    const figures = await run();
    return { ...figures, strays: pool.strays - before };
  };

  if (want("unicast", "unicast-rate", "batch", "broadcast", "idle-memory")) {
    const specs = Array.from({ length: size.clients }, (_, i) => ({ uid: uidOf(i) }));
    const { pool, figures } = await connectMeasured(server, specs);
    memory.uidRooms = figures;
    if (want("idle-memory")) idle.push(await reachIdle(server, pool, specs));
    idleStrays += pool.strays;
    for (const [name, run] of [["unicast", unicast], ["unicast-rate", unicastRate], ["batch", batch]] as const) {
      if (!want(name)) continue;
      out.set(name, await counted(pool, () => run(server, pool, size)));
      log(`${server.kind}: ${name} done`);
    }
    if (want("broadcast")) out.set("broadcast", await counted(pool, () => broadcast(server, pool, size.broadcastRounds)));
    await pool.close();
    await pause();
  }
  if (want("fanout", "idle-memory")) {
    const group = "bench-fanout";
    const specs = Array.from({ length: size.groupSockets }, (_, i) => ({ uid: `bench-g${i}`, group }));
    const { pool, figures } = await connectMeasured(server, specs);
    memory.oneRoom = figures;
    if (want("idle-memory")) idle.push(await reachIdle(server, pool, specs));
    idleStrays += pool.strays;
    if (want("fanout")) out.set("fanout", await counted(pool, () => fanout(server, pool, group, size.fanoutRounds)));
    await pool.close();
    await pause();
  }
  if (server.kind === "edgepush" && want("pusher-fanout")) {
    const pool = await PusherSocketPool.connect(server, size.pusherSockets, PUSHER_CHANNEL);
    log(`${server.kind}: ${size.pusherSockets} Pusher sockets subscribed over ${pool.gateways} gateways`);
    out.set("pusher-fanout", { ...(await pusherFanout(server, pool, PUSHER_CHANNEL, size.fanoutRounds)), strays: pool.strays });
    await pool.close();
    await pause();
  }
  if (want("replay")) out.set("replay", await replay(server, size.replay));
  if (want("gateway-uid")) out.set("gateway-uid", await gatewayScenario(server));
  if (want("idle-memory")) {
    const sum = (key: "errors" | "lost" | "duplicates") => idle.reduce((n, f) => n + (f[key] ?? 0), 0);
    out.set("idle-memory", { ...memory, errors: sum("errors"), lost: sum("lost"), duplicates: sum("duplicates"), strays: idleStrays });
  }
  if (want("abuse")) out.set("abuse", await abuse(server, values.quick ? ABUSE.quick : ABUSE.full));
  return out;
}

/** `/ws` sockets in their own uid rooms and as many `/gateway` connections bound to uids, then gateway-uid. */
async function gatewayScenario(server: Server): Promise<Figures> {
  if (server.kind === "baseline") return gatewayUid(server, new SocketPool(), size);
  const specs: ClientSpec[] = Array.from({ length: size.gatewayClients }, (_, i) => ({ uid: uidOf(i) }));
  for (let i = 0; i < size.gatewayClients; i++) specs.push({ uid: gatewayUidOf(i), gateway: true });
  const pool = await SocketPool.connect(server, specs);
  await sleep(300);
  const figures = await gatewayUid(server, pool, size);
  const strays = pool.strays;
  await pool.close();
  log(`${server.kind}: gateway-uid done`);
  return { ...figures, strays };
}

/** Connects `specs` and measures what the server's RSS grew by per connection. */
async function connectMeasured(server: Server, specs: ClientSpec[]): Promise<{ pool: SocketPool; figures: Figures }> {
  const before = server.rss();
  const started = now();
  const pool = await SocketPool.connect(server, specs);
  const connectMs = now() - started;
  await sleep(values.quick ? 300 : 1500);
  const grown = server.rss() - before;
  log(`${server.kind}: ${specs.length} clients connected`);
  const figures = { connections: specs.length, kbPerConnection: kb(grown / specs.length), connectsPerSec: perSecond(specs.length, connectMs) };
  return { pool, figures };
}

const PUSHER_CHANNEL = "bench-pusher";

/** Runs `run` on a fresh server (no freed rooms of earlier scenarios in its RSS), then stops it. */
async function onFreshServer<T>(start: Promise<Server>, run: (server: Server) => Promise<T>): Promise<T> {
  const server = await start;
  running.add(server);
  try {
    return await run(server);
  } finally {
    await server.stop();
    running.delete(server);
  }
}

/**
 * Idle Pusher sockets on a fresh edgepush, then the floor by the same method: as many idle sockets
 * on a fresh thin baseline, spread over as many group rooms as there are gateway shards.
 */
async function idleMemoryWithFloor(workerPath: string, built: string | undefined): Promise<Figures> {
  const settleMs = values.quick ? 300 : 1500;
  log("starting a fresh edgepush for the Pusher sockets' memory");
  const figures = await onFreshServer(startServe("edgepush", workerPath, work), (server) => pusherIdleMemory(server, size.pusherSockets, PUSHER_CHANNEL, settleMs));
  log(`edgepush: ${size.pusherSockets} idle Pusher sockets over ${figures.gateways} gateways`);
  if (!built) return { ...figures, floor: { skipped: "--no-baseline" } };
  log(`starting a fresh thin baseline for the floor: ${size.pusherSockets} idle sockets over ${FLOOR_ROOMS} group rooms`);
  const floor = await onFreshServer(startServe("baseline", built, work), (server) => groupIdleMemory(server, size.pusherSockets, settleMs));
  const above = typeof floor.kbPerConnection === "number" ? round((figures.kbPerConnection as number) - floor.kbPerConnection, 1) : null;
  return { ...figures, floor: { of: `the thin baseline: as many idle /ws sockets over ${FLOOR_ROOMS} group rooms, fresh server, same method`, ...floor }, kbAboveFloor: above };
}

/** A trigger's cost, counted by the tail worker of the server (a fifth of the channel's sockets). */
async function pusherCost(server: Server): Promise<Figures> {
  const pool = await PusherSocketPool.connect(server, Math.ceil(size.pusherSockets / 5), PUSHER_CHANNEL);
  await sleep(500);
  const figures = await pusherTriggerCost(server, pool, PUSHER_CHANNEL, values.quick ? 2 : 5);
  await pool.close();
  return { ...figures, strays: pool.strays };
}

// Each push is one SQLite commit per room, fsync'd on disk: the file system shapes the figures.
function fsType(dir: string): string {
  const types: Record<number, string> = { 0xef53: "ext4", 0x01021994: "tmpfs", 0x58465342: "xfs", 0x9123683e: "btrfs", 0x794c7630: "overlayfs", 0x2fc12fc1: "zfs" };
  const { type } = statfsSync(dir);
  return types[type] ?? `fs 0x${type.toString(16)}`;
}

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
const kb = (bytes: number) => round(bytes / 1024, 1);

/** Ratios of a scenario's headline figure: to the thin baseline (or `versus`), and to the durable baseline where it ran. */
interface Ratios {
  thin: number | null;
  durable: number | null;
}
type Goal = [string, (f: Figures, ratios: Ratios) => boolean | null];
/** A baseline from the same edgepush run (another scenario, or the scenario's own expectation). */
interface Versus {
  scenario?: Scenario;
  figure: string;
  what: string;
}
// The headline of each scenario: the figure its ratio compares (edgepush / baseline, or / `versus`
// of the same run; for times and memory above 1 is worse), and the goal it has (issue 14: the write
// path against the durable baseline, which pays the same fsync per push; the fan-out against the thin one).
const HEADLINE: Record<Scenario, { figure: string; goal?: Goal; versus?: Versus }> = {
  unicast: { figure: "pushesPerSec", goal: ["pushesPerSec >= 0.8x durable baseline", (_f, r) => (r.durable === null ? null : r.durable >= 0.8)] },
  "unicast-rate": { figure: "latencyMs.p50" },
  batch: { figure: "deliveriesPerSec", goal: ["deliveriesPerSec >= 0.8x durable baseline", (_f, r) => (r.durable === null ? null : r.durable >= 0.8)] },
  broadcast: { figure: "lastMs" },
  fanout: { figure: "lastMs", goal: ["lastMs no slower than the thin baseline", (_f, r) => (r.thin === null ? null : r.thin <= 1)] },
  "idle-memory": { figure: "uidRooms.kbPerConnection" },
  replay: { figure: "replayedPerSec" },
  // Its ratio is within edgepush: the gateway path's p50 over the /ws path's, measured side by side.
  "gateway-uid": { figure: "gatewayLatencyMs.p50", goal: ["gateway p50 <= 1.5x /ws p50", (f) => (f.gatewayToWsP50 === null ? null : (f.gatewayToWsP50 as number) <= 1.5)] },
  "pusher-fanout": {
    figure: "lastMs",
    versus: { scenario: "fanout", figure: "lastMs", what: "the same number of sockets in one native group room (fanout)" },
    goal: ["lastMs <= 1.5x the native group room", (_f, r) => (r.thin === null ? null : r.thin <= 1.5)],
  },
  "pusher-idle-memory": {
    figure: "kbPerConnection",
    versus: { scenario: "idle-memory", figure: "uidRooms.kbPerConnection", what: "a socket in its own uid room (idle-memory)" },
    goal: ["kbPerConnection <= 50", (f) => (f.kbPerConnection as number) <= 50],
  },
  "pusher-trigger-cost": {
    figure: "doRequestsPerTrigger",
    versus: { figure: "expected", what: "1 + the gateways holding subscribers (the room's push and one deliver each)" },
    goal: ["doRequestsPerTrigger == 1 + gatewaysWithSubscribers", (_f, r) => (r.thin === null ? null : r.thin === 1)],
  },
  // Its own two phases are the comparison: the bystander's p50 during a flood over its p50 without.
  abuse: { figure: "p50Ratio", goal: ["bystander p50 during a flood <= 2x its p50 without", (f) => (f.p50Ratio as number | null) !== null && (f.p50Ratio as number) <= 2] },
};

function figure(f: Figures, path: string): number | undefined {
  const value = path.split(".").reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], f);
  return typeof value === "number" ? value : undefined;
}

function line(name: Scenario, mode: string, mine: Figures, base: Figures | undefined, durable: Figures | undefined): string {
  const out: Record<string, unknown> = { scenario: name, server: mode, storage, ...mine };
  if (mine.skipped) return JSON.stringify(out);
  const head = HEADLINE[name];
  const a = figure(mine, head.figure);
  const b = base && !base.skipped ? figure(base, head.versus?.figure ?? head.figure) : undefined;
  const d = durable && !durable.skipped ? figure(durable, head.figure) : undefined;
  const ratios: Ratios = { thin: a !== undefined && b ? round(a / b, 2) : null, durable: a !== undefined && d ? round(a / d, 2) : null };
  if (head.versus) out.baseline = { of: head.versus.what, [head.versus.figure]: b ?? null };
  else if (base) out.baseline = base.skipped ? { skipped: base.skipped } : base;
  if (durable) out.durableBaseline = durable.skipped ? { skipped: durable.skipped } : durable;
  out.ratio = ratios.thin;
  if (durable) out.ratioDurable = ratios.durable;
  out.ratioOf = head.figure;
  // The goals are set for plain workerd; null when this run cannot tell (no baseline).
  if (head.goal && mode === "serve") {
    const met = head.goal[1](mine, ratios);
    out.goal = { text: head.goal[0], met: met === null ? null : mine.lost === 0 && met };
  }
  return JSON.stringify(out);
}

// Servers still running, so a signal or the deadline never leaves a workerd behind.
const running = new Set<Server>();

async function measureOn(start: Promise<Server>): Promise<Results> {
  const server = await start;
  running.add(server);
  try {
    return await measure(server);
  } finally {
    await server.stop();
    running.delete(server);
  }
}

async function abort(why: string): Promise<never> {
  log(`${why}; stopping the servers (their logs are in ${work})`);
  await Promise.all([...running].map((server) => server.stop()));
  process.exit(1);
}
process.on("SIGINT", () => void abort("interrupted"));
process.on("SIGTERM", () => void abort("terminated"));
// Bounded in time as well as in size: a hung server fails the run instead of holding it.
const DEADLINE_S = values.quick ? 270 : 1200;
setTimeout(() => void abort(`not done after ${DEADLINE_S} s`), DEADLINE_S * 1000).unref();

async function main(): Promise<void> {
  let baseline: Results | undefined;
  let durable: Results | undefined;
  let built: string | undefined;
  if (!values["no-baseline"]) {
    built = await buildBaseline(work);
    log("starting the thin baseline on workerd");
    baseline = await measureOn(startServe("baseline", built, work));
    if (DURABLE.some((name) => wanted.has(name))) {
      log("starting the durable baseline (a SQLite row per push) on workerd");
      durable = await measureOn(startServe("durable", built, work));
    }
  }
  log(`building edgepush and starting it (${values.target === "serve" ? "plain workerd" : "wrangler dev"})`);
  const workerPath = buildEdgepush(join(work, "dist"));
  const mine = await measureOn(values.target === "serve" ? startServe("edgepush", workerPath, work) : startWrangler(work));
  if (want("pusher-idle-memory")) mine.set("pusher-idle-memory", await idleMemoryWithFloor(workerPath, built));
  if (want("pusher-trigger-cost")) {
    log("starting edgepush with a tail worker counting Durable Object requests");
    mine.set("pusher-trigger-cost", await onFreshServer(startServe("edgepush", workerPath, work, true), pusherCost));
  }
  for (const name of SCENARIOS) {
    const versus = HEADLINE[name].versus;
    const base = versus ? mine.get(versus.scenario ?? name) : baseline?.get(name);
    if (want(name)) console.log(line(name, values.target!, mine.get(name)!, base, versus ? undefined : durable?.get(name)));
  }
}

main()
  .then(() => {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
    process.exit(0);
  })
  .catch((err) => {
    log(`failed: ${err instanceof Error ? err.stack : String(err)} (server logs in ${work})`);
    process.exit(1);
  });
