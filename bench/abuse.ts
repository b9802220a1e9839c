/**
 * The `abuse` scenario: what one bad client costs everyone else. A bystander's pushes are timed at
 * a fixed rate, first alone, then while one socket floods the server with frames and never reads
 * its answers; then a group with one socket that stops reading gets a stream of large pushes while
 * another member reads them.
 */
import WebSocket from "ws";
import { Pusher, SocketPool, now, runAtRate, settle, signToken, sleep } from "./load";
import type { Figures } from "./scenarios";
import { BENCH_PUSH_SECRET, type Server } from "./servers";
import { Recorder, percentiles, round } from "./stats";

export interface AbuseSizes {
  /** Bystander pushes per second in each phase. */
  rate: number;
  /** Seconds each phase lasts. */
  seconds: number;
  /** Size (bytes) of each push to the slow reader's group, and pushes per second. */
  slowBytes: number;
  slowRate: number;
}

const BYSTANDER = "bench-bystander";

/** Bystander latency without and with a flood, server RSS, and the slow-reader figures. */
export async function abuse(server: Server, size: AbuseSizes): Promise<Figures> {
  if (server.kind === "baseline") return { skipped: "the thin baseline has no frame budget" };
  const pool = await SocketPool.connect(server, [{ uid: BYSTANDER }]);
  const rssStart = server.rss();
  const quiet = await timedPushes(server, pool, "q", size);
  progress(`abuse: quiet phase p50 ${quiet.latencyMs.p50} ms`);
  const flooder = new Flooder(server, "bench-flooder");
  const peak = { rss: server.rss() };
  const sampler = setInterval(() => (peak.rss = Math.max(peak.rss, server.rss())), 200);
  flooder.start();
  const flood = await timedPushes(server, pool, "w", size);
  const frames = flooder.stop();
  clearInterval(sampler);
  const lived = percentiles(flooder.lifetimes);
  progress(`abuse: flood phase p50 ${flood.latencyMs.p50} ms; ${frames} frames over ${flooder.connections} connections`);
  const strays = pool.strays;
  await pool.close();
  const slow = await slowReader(server, size);
  progress(`abuse: slow reader ${JSON.stringify(slow)}`);
  const p50Ratio = quiet.latencyMs.p50 > 0 ? round(flood.latencyMs.p50 / quiet.latencyMs.p50, 2) : null;
  return {
    rate: size.rate, seconds: size.seconds, quiet: quiet.latencyMs, flood: flood.latencyMs, p50Ratio,
    floodFrames: frames, floodFramesPerSec: round(frames / size.seconds), floodConnections: flooder.connections, floodConnectsRefused: flooder.refused,
    floodConnectionLifetimeMs: { p50: lived.p50, max: lived.max },
    rssStartMB: mb(rssStart), rssPeakDuringFloodMB: mb(peak.rss), slowReader: slow,
    errors: quiet.errors + flood.errors + (slow.errors as number), lost: quiet.lost + flood.lost + slow.lost,
    duplicates: quiet.duplicates + flood.duplicates + (slow.duplicates as number), strays,
  };
}

// Pushes to the bystander at `rate` for `seconds`; their delivery latency.
async function timedPushes(server: Server, pool: SocketPool, tag: string, size: AbuseSizes) {
  const n = size.rate * size.seconds;
  const rec = new Recorder(n);
  pool.handler = (_socket, s, at) => s.s === tag && rec.hit(s.i, at - s.t, at);
  const pusher = new Pusher(server, 16);
  let errors = 0;
  await runAtRate(n, size.rate, 64, async (i) => {
    const answer = await pusher.post({ uid: BYSTANDER, data: { s: tag, i, t: round(now(), 3) }, ttl: 0 }).catch(() => null);
    if (answer?.status !== 200) errors++;
  });
  await settle(() => rec.done, () => rec.count);
  pusher.close();
  pool.handler = null;
  return { latencyMs: percentiles(rec.latencies), errors, lost: rec.lost, duplicates: rec.duplicates };
}

/**
 * A determined flooder: one socket at a time sends `{}` frames as fast as TCP takes them and
 * reads nothing; each time the server cuts it off it connects again and goes on.
 */
class Flooder {
  private running = false;
  private ws: WebSocket | null = null;
  sent = 0;
  connections = 0;
  /** Connects the server refused (a flooder it cut off is refused for a while). */
  refused = 0;
  /** How long each connection lasted, ms. */
  readonly lifetimes: number[] = [];

  constructor(private readonly server: Server, private readonly uid: string) {}

  start(): void {
    this.running = true;
    void this.connect();
  }

  /** Stops flooding and closes its socket; the frames it sent. */
  stop(): number {
    this.running = false;
    this.ws?.terminate();
    return this.sent;
  }

  private async connect(): Promise<void> {
    while (this.running) {
      const ws = new WebSocket(`${this.server.wsUrl}/ws?token=${signToken(this.uid)}`, { perMessageDeflate: false });
      ws.on("error", () => {}); // a reset connection: its close says when
      const opened = await new Promise<boolean>((done) => (ws.once("open", () => done(true)), ws.once("close", () => done(false))));
      if (!opened) {
        this.refused++;
        await sleep(50);
        continue;
      }
      this.ws = ws;
      this.connections++;
      const since = now();
      // Not reading: the server's answers (and its close) wait in the kernel's buffers.
      socketOf(ws).pause();
      await new Promise<void>((done) => {
        ws.once("close", () => (this.lifetimes.push(round(now() - since)), done()));
        const burst = () => {
          if (!this.running || ws.readyState !== WebSocket.OPEN) return;
          // Keep the flooder's own queue short: only what the kernel accepts goes out.
          for (let i = 0; i < 2000 && ws.bufferedAmount < 1 << 20; i++, this.sent++) ws.send("{}");
          setImmediate(burst);
        };
        burst();
      });
    }
  }
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

/**
 * A group gets `slowRate` pushes a second of `slowBytes` each for 8 s; one member reads (and
 * acknowledges, as the client library does), one never reads. Whether and when the server
 * dropped the silent one, what its RSS grew by, and whether the reader got everything.
 */
async function slowReader(server: Server, size: AbuseSizes): Promise<{ lost: number } & Record<string, unknown>> {
  const group = "bench-slow";
  const token = signToken("bench-slow", [group]);
  const url = `${server.wsUrl}/ws?token=${token}&group=${group}`;
  const open = () => new Promise<WebSocket>((done, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => done(ws));
    ws.once("error", fail);
  });
  const reader = await open();
  const n = size.slowRate * 8;
  const rec = new Recorder(n);
  let unacked = 0;
  reader.on("message", (raw) => {
    const text = String(raw);
    unacked += text.length;
    if (unacked >= 256 * 1024) (reader.send(JSON.stringify({ type: "ack", bytes: unacked })), (unacked = 0));
    const frame = JSON.parse(text) as { type: string; data?: { i: number; t: number } };
    if (frame.type === "push" && frame.data) rec.hit(frame.data.i, now() - frame.data.t, now());
  });
  const stalled = await open();
  socketOf(stalled).pause();
  let droppedAfterMs: number | null = null;
  stalled.on("close", () => (droppedAfterMs ??= round(now() - start)));
  const rssBefore = server.rss();
  const pad = "z".repeat(size.slowBytes);
  const pusher = new Pusher(server, 8);
  let peak = rssBefore;
  const start = now();
  const watch = setInterval(async () => {
    peak = Math.max(peak, server.rss());
    const answer = await fetch(`${server.url}/groups/${group}`, { headers: { Authorization: `Bearer ${BENCH_PUSH_SECRET}` } })
      .then((r) => r.json() as Promise<{ connections: number }>).catch(() => null);
    if (answer?.connections === 1) droppedAfterMs ??= round(now() - start);
  }, 250);
  let errors = 0;
  await runAtRate(n, size.slowRate, 64, async (i) => {
    const answer = await pusher.post({ group, data: { i, t: round(now(), 3), pad }, ttl: 0 }).catch(() => null);
    if (answer?.status !== 200) errors++;
  });
  await settle(() => rec.done, () => rec.count);
  clearInterval(watch);
  pusher.close();
  const figures = {
    pushes: n, bytesEach: size.slowBytes, perSec: size.slowRate, silentDroppedAfterMs: droppedAfterMs,
    rssGrowthMB: mb(peak - rssBefore), readerLatencyMs: percentiles(rec.latencies), errors, lost: rec.lost,
    duplicates: rec.duplicates,
  };
  reader.close();
  stalled.terminate();
  return figures;
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
