/**
 * The Pusher side of the load generator: protocol-7 clients (what pusher-js sends, without its
 * per-socket overhead: thousands in one process) and REST triggers signed as the SDKs sign them.
 */
import { createHash, createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import WebSocket from "ws";
import { closeAll, now, runConcurrent, type PushHandler, type Stamp } from "./load";
import { BENCH_PUSHER, type Server } from "./servers";

/** Pusher clients subscribed to one channel; `handler` receives the benchmark events. */
export class PusherSocketPool {
  readonly sockets: WebSocket[] = [];
  /** Each socket's socket_id (`<gateway shard>.<digits>`). */
  readonly socketIds: string[] = [];
  handler: PushHandler | null = null;
  strays = 0;

  /** Connects `count` clients, each subscribed to `channel`, `concurrency` at a time (added to `pool` when given). */
  static async connect(server: Server, count: number, channel: string, pool = new PusherSocketPool(), concurrency = 100): Promise<PusherSocketPool> {
    const first = pool.sockets.length;
    await runConcurrent(count, concurrency, (i) => pool.open(server, channel, first + i));
    return pool;
  }

  /** Gateway shards holding at least one of the sockets. */
  get gateways(): number {
    return new Set(this.socketIds.map((id) => id.split(".")[0])).size;
  }

  private open(server: Server, channel: string, index: number): Promise<void> {
    return new Promise((done, fail) => {
      const ws = new WebSocket(`${server.wsUrl}/app/${BENCH_PUSHER.key}?protocol=7&client=bench&version=1`, { perMessageDeflate: false });
      this.sockets[index] = ws;
      ws.once("unexpected-response", (_req, res) => fail(new Error(`pusher upgrade answered ${res.statusCode}`)));
      ws.once("error", fail);
      ws.once("close", (code) => fail(new Error(`pusher socket ${index} closed with ${code} before it subscribed`)));
      ws.on("message", (raw) => {
        const frame = JSON.parse(String(raw)) as { event: string; data?: string };
        if (frame.event === "pusher:connection_established") {
          this.socketIds[index] = (JSON.parse(frame.data!) as { socket_id: string }).socket_id;
          ws.send(JSON.stringify({ event: "pusher:subscribe", data: { auth: "", channel } }));
        } else if (frame.event === "pusher_internal:subscription_succeeded") {
          ws.removeAllListeners("close");
          done();
        } else this.receive(index, frame);
      });
    });
  }

  private receive(index: number, frame: { event: string; data?: string }): void {
    const at = now();
    const stamp = frame.event === "bench" && typeof frame.data === "string" ? (JSON.parse(frame.data) as Stamp) : null;
    const expected = stamp !== null && typeof stamp.i === "number" && this.handler?.(index, stamp, at);
    if (!expected) this.strays++;
  }

  close(): Promise<void> {
    return closeAll(this.sockets);
  }
}

/** `POST /apps/<id>/events` over keep-alive HTTP, signed like pusher-http-node signs it. */
export class Trigger {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly server: Server) {}

  send(channel: string, name: string, data: unknown): Promise<number> {
    const body = JSON.stringify({ name, channels: [channel], data: JSON.stringify(data) });
    const path = `/apps/${BENCH_PUSHER.id}/events`;
    const params: Record<string, string> = {
      auth_key: BENCH_PUSHER.key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: "1.0",
      body_md5: createHash("md5").update(body).digest("hex"),
    };
    const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join("&");
    const signature = createHmac("sha256", BENCH_PUSHER.secret).update(`POST\n${path}\n${query}`).digest("hex");
    return new Promise((done, fail) => {
      const req = request(new URL(`${path}?${query}&auth_signature=${signature}`, this.server.url), {
        method: "POST", agent: this.agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0));
      });
      req.on("error", fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
