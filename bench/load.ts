/** The load generator: WebSocket clients, `POST /push` over keep-alive HTTP, pacing helpers. */
import { createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
// `ws` rather than Node's global WebSocket: thousands of sockets in one process at a fraction of
// the per-socket CPU and memory, and no permessage-deflate unless asked for.
import WebSocket from "ws";
import { BENCH_PUSH_SECRET, BENCH_TOKEN_SECRET, type Server } from "./servers";

/** What every benchmark push carries as `data`: scenario tag, message index, send time (ms). */
export interface Stamp {
  s: string;
  i: number;
  t: number;
}

/**
 * Called for each push frame a client receives, with the receive time; false when the running
 * scenario did not expect that frame (it is counted as a stray).
 */
export type PushHandler = (socket: number, stamp: Stamp, at: number) => boolean;

export interface ClientSpec {
  uid: string;
  group?: string;
  since?: number;
  /** A `/gateway` connection bound to `uid` by its token; pushes arrive as the bare payload. */
  gateway?: boolean;
}

export const now = (): number => performance.now();

/** An HS256 client token, as a backend would sign it with TOKEN_SECRET. */
export function signToken(uid: string, groups: string[] = []): string {
  const enc = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub: uid, groups, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac("sha256", BENCH_TOKEN_SECRET).update(body).digest("base64url")}`;
}

function socketUrl(server: Server, spec: ClientSpec): string {
  if (spec.gateway) return `${server.wsUrl}/gateway?token=${signToken(spec.uid)}`;
  if (server.kind !== "edgepush") {
    return spec.group ? `${server.wsUrl}/ws?group=${spec.group}` : `${server.wsUrl}/ws?uid=${spec.uid}`;
  }
  let url = `${server.wsUrl}/ws?token=${signToken(spec.uid, spec.group ? [spec.group] : [])}`;
  if (spec.group) url += `&group=${spec.group}`;
  if (spec.since !== undefined) url += `&since=${spec.since}`;
  return url;
}

/** Open WebSocket clients; `handler` receives their push frames. */
export class SocketPool {
  readonly sockets: WebSocket[] = [];
  /** Sockets that receive bare payloads (`/gateway`), not envelopes. */
  private readonly raw = new Set<number>();
  handler: PushHandler | null = null;
  /** Frames that were neither `init` nor a push the running scenario expected (none is running: any push). */
  strays = 0;

  /** Connects one client per spec, `concurrency` handshakes at a time (added to `pool` when given). */
  static async connect(server: Server, specs: ClientSpec[], concurrency = 100, pool = new SocketPool()): Promise<SocketPool> {
    const first = pool.sockets.length;
    await runConcurrent(specs.length, concurrency, (i) => pool.open(server, specs[i], first + i));
    return pool;
  }

  private open(server: Server, spec: ClientSpec, index: number): Promise<void> {
    return new Promise((done, fail) => {
      const ws = new WebSocket(socketUrl(server, spec), { perMessageDeflate: false });
      this.sockets[index] = ws;
      if (spec.gateway) this.raw.add(index);
      ws.once("open", () => done());
      ws.once("unexpected-response", (_req, res) => fail(new Error(`upgrade for ${spec.uid} answered ${res.statusCode}`)));
      ws.once("error", fail);
      ws.on("message", (raw) => this.receive(index, String(raw)));
    });
  }

  private receive(index: number, text: string): void {
    const at = now();
    const parsed = JSON.parse(text) as { type?: string; data?: Stamp };
    if (parsed.type === "init") return;
    // A `/gateway` page gets the payload itself, as GatewayWorker sent it.
    const frame = this.raw.has(index) ? { type: "push", data: parsed as Stamp } : parsed;
    const expected = frame.type === "push" && typeof frame.data?.i === "number" && this.handler?.(index, frame.data, at);
    if (!expected) this.strays++;
  }

  /** Closes every client and waits for the closes to finish. */
  close(): Promise<void> {
    return closeAll(this.sockets);
  }
}

/** Closes `sockets` (1000) and waits until each has closed. */
export async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) => new Promise<void>((done) => {
    if (ws.readyState === WebSocket.CLOSED) return done();
    ws.once("close", () => done());
    ws.close(1000);
  })));
}

/** `POST /push` over a keep-alive pool of `connections` HTTP connections. */
export class Pusher {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(server: Server, connections: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
    this.url = new URL("/push", server.url);
  }

  /** Sends one body; resolves with the status and parsed answer. */
  post(body: unknown): Promise<{ status: number; json: any }> {
    const text = JSON.stringify(body);
    return new Promise((done, fail) => {
      const req = request(this.url, {
        method: "POST",
        agent: this.agent,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(text),
          Authorization: `Bearer ${BENCH_PUSH_SECRET}`,
        },
      }, (res) => {
        let answer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (answer += chunk));
        res.on("end", () => {
          try {
            done({ status: res.statusCode ?? 0, json: JSON.parse(answer) });
          } catch {
            fail(new Error(`POST /push answered ${res.statusCode} with non-JSON: ${answer.slice(0, 200)}`));
          }
        });
      });
      req.on("error", fail);
      req.end(text);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `fn(0..count-1)` with at most `concurrency` in flight. */
export async function runConcurrent(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Starts `fn(i)` at `rate` per second regardless of answers (open loop), at most `maxInFlight`
 * outstanding; returns how often the cap held a send back.
 */
export async function runAtRate(count: number, rate: number, maxInFlight: number, fn: (i: number) => Promise<void>): Promise<number> {
  const start = now();
  const pending = new Set<Promise<void>>();
  let stalls = 0;
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    if (pending.size >= maxInFlight) {
      stalls++;
      await Promise.race(pending);
    }
    const p: Promise<void> = fn(i).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  return stalls;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `done()` holds, or `quietMs` passed with no progress (long: a busy CI machine stalls). */
export async function settle(done: () => boolean, progress: () => number, quietMs = 10_000): Promise<void> {
  let last = progress();
  let lastChange = now();
  while (!done()) {
    await sleep(5);
    const p = progress();
    if (p !== last) [last, lastChange] = [p, now()];
    else if (now() - lastChange > quietMs) return;
  }
}
