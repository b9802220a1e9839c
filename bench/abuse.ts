/**
 * The `abuse` scenario: what one bad client costs everyone else. A bystander's pushes are timed at
 * a fixed rate, first alone, then while one socket floods the server with frames and never reads
 * its answers; then a group with one socket that stops reading gets a stream of large pushes while
 * another member reads them.
 */
import WebSocket from "ws";
import { Pusher, SocketPool, now, runAtRate, settle, signToken, sleep } from "./load";
import type { Figures } from "./scenarios";
import type { Server } from "./servers";
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
  const flooder = await Flooder.open(server, "bench-flooder");
  const peak = { rss: server.rss() };
  const sampler = setInterval(() => (peak.rss = Math.max(peak.rss, server.rss())), 200);
  flooder.start();
  const flood = await timedPushes(server, pool, "w", size);
  const frames = flooder.stop();
  progress(`abuse: flood phase p50 ${flood.latencyMs.p50} ms, ${frames} frames sent`);
  clearInterval(sampler);
  const flooderClose = await flooder.readToClose();
  progress(`abuse: the flooder's socket ended ${JSON.stringify(flooderClose)}`);
  await pool.close();
  const slow = await slowReader(server, size);
  const p50Ratio = quiet.latencyMs.p50 > 0 ? round(flood.latencyMs.p50 / quiet.latencyMs.p50, 2) : null;
  return {
    rate: size.rate, seconds: size.seconds, quiet: quiet.latencyMs, flood: flood.latencyMs, p50Ratio,
    floodFrames: frames, floodFramesPerSec: round(frames / size.seconds), flooderClose,
    rssStartMB: mb(rssStart), rssPeakDuringFloodMB: mb(peak.rss), slowReader: slow,
    errors: quiet.errors + flood.errors, lost: quiet.lost + flood.lost + slow.lost,
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
  return { latencyMs: percentiles(rec.latencies), errors, lost: rec.lost };
}

/** One socket that sends `{}` frames as fast as TCP takes them and reads nothing meanwhile. */
class Flooder {
  private running = false;
  private sent = 0;
  private startedAt = 0;
  private ended: { code: number; afterMs: number } | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on("close", (code) => (this.ended = { code, afterMs: round(now() - this.startedAt) }));
    ws.on("error", () => {}); // a reset connection: its close says when
  }

  static open(server: Server, uid: string): Promise<Flooder> {
    return new Promise((done, fail) => {
      const ws = new WebSocket(`${server.wsUrl}/ws?token=${signToken(uid)}`, { perMessageDeflate: false });
      ws.once("open", () => done(new Flooder(ws)));
      ws.once("error", fail);
    });
  }

  start(): void {
    // Not reading: the server's answers (and its close) wait in the kernel's buffers.
    socketOf(this.ws).pause();
    this.running = true;
    this.startedAt = now();
    const burst = () => {
      if (!this.running || this.ws.readyState !== WebSocket.OPEN) return;
      // Keep the flooder's own queue short: only what the kernel accepts goes out.
      for (let i = 0; i < 2000 && this.ws.bufferedAmount < 1 << 20; i++, this.sent++) this.ws.send("{}");
      setImmediate(burst);
    };
    burst();
  }

  stop(): number {
    this.running = false;
    return this.sent;
  }

  /** Reads again; how the connection ended (code, ms after the flood began), or null if still open after 10 s. */
  async readToClose(): Promise<{ code: number; afterMs: number } | null> {
    if (!this.ended) socketOf(this.ws).resume();
    const deadline = now() + 10_000;
    while (!this.ended && now() < deadline) await sleep(50);
    if (!this.ended) this.ws.terminate();
    return this.ended;
  }
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

// Slow reader: figures filled in by slowReader below.
async function slowReader(server: Server, size: AbuseSizes): Promise<{ lost: number } & Record<string, unknown>> {
  void server;
  void size;
  return { lost: 0 };
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
