/**
 * A scripted local WebSocket server that speaks edgepush's frames, for client tests that need
 * the server to misbehave on cue (refuse, drop, replay twice, close with 4000/4001). Everything
 * here is driven by I/O events, never by timers, so it works under fake timers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket as ServerSocket } from "ws";
import type { EdgePushClient, EdgePushEvents } from "../../client";

/** A queue that a test awaits item by item. */
export class Queue<T> {
  readonly items: T[] = [];
  private taken = 0;
  private waiters: (() => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The next item not yet taken, waiting for it if needed. */
  async next(): Promise<T> {
    while (this.items.length <= this.taken) await new Promise<void>((r) => this.waiters.push(r));
    return this.items[this.taken++];
  }

  /** Waits until at least `n` items arrived in total. */
  async count(n: number): Promise<T[]> {
    while (this.items.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.items;
  }
}

/** Every event `client` emits, queued by type, so a test can await them in order. */
export function queueEvents(client: EdgePushClient): { [K in keyof EdgePushEvents]: Queue<EdgePushEvents[K]> } {
  const events = {} as { [K in keyof EdgePushEvents]: Queue<EdgePushEvents[K]> };
  for (const type of ["open", "message", "close", "error", "reconnecting"] as const) {
    const queue = new Queue<never>();
    events[type] = queue as never;
    client.on(type, (event) => queue.push(event as never));
  }
  return events;
}

export interface Connection {
  url: URL;
  socket: ServerSocket;
  received: Queue<string>;
}

export class ScriptedServer {
  /** Every upgrade request, refused ones included. */
  readonly attempts = new Queue<URL>();
  readonly connections = new Queue<Connection>();
  /** While true, upgrades are answered 401 as edgepush answers a bad token. */
  refuse = false;
  /** The `seq` the next init frame reports. */
  seq = 0;
  /** Answer `ping` with `pong`, as edgepush's runtime auto-response does. */
  answerPings = true;

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer, readonly url: string) {}

  static async start(): Promise<ScriptedServer> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    const server = new ScriptedServer(http, wss, `http://127.0.0.1:${port}`);
    http.on("upgrade", (req, socket, head) => server.onUpgrade(req.url ?? "/", req, socket as Socket, head));
    return server;
  }

  private onUpgrade(path: string, req: import("node:http").IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(path, this.url);
    // A client that gives up on a refused upgrade resets the connection; that is not a failure.
    socket.on("error", () => {});
    this.attempts.push(url);
    if (this.refuse) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const received = new Queue<string>();
      ws.on("message", (data) => {
        received.push(String(data));
        if (this.answerPings && String(data) === "ping") ws.send("pong");
      });
      const group = url.searchParams.get("group");
      const room = group ? `group:${group}` : "uid:u1";
      ws.send(JSON.stringify({ type: "init", clientId: `c${this.attempts.items.length}`, uid: "u1", room, seq: this.seq }));
      this.connections.push({ url, socket: ws, received });
    });
  }

  /** Sends a push envelope on `conn`. */
  push(conn: Connection, seq: number, id: string, data: unknown): void {
    conn.socket.send(JSON.stringify({ type: "push", seq, id, data, ts: Date.now() }));
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** An unsigned JWT-shaped token with `exp`: enough for the client, which never verifies tokens. */
export function fakeToken(exp: number, sub = "u1"): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub, exp })}.signature`;
}

/**
 * A TCP proxy in front of a real server, so a test can cut the network under a live client
 * (`cut`) and keep it down (`refuse`) while the backend goes on pushing.
 */
export class TcpProxy {
  /** The request line of every connection that got through, e.g. `GET /ws?token=…&since=5 HTTP/1.1`. */
  readonly requests = new Queue<string>();
  refuse = false;
  private readonly pairs = new Set<Socket>();

  private constructor(private readonly server: import("node:net").Server, readonly url: string) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const { createServer: createTcpServer, connect } = await import("node:net");
    let proxy!: TcpProxy;
    const server = createTcpServer((downstream) => {
      downstream.on("error", () => {});
      if (proxy.refuse) return void downstream.destroy();
      const upstream = connect(targetPort, "127.0.0.1");
      upstream.on("error", () => downstream.destroy());
      downstream.once("data", (chunk) => proxy.requests.push(String(chunk).split("\r\n")[0]));
      downstream.pipe(upstream).pipe(downstream);
      for (const socket of [downstream, upstream]) {
        proxy.pairs.add(socket);
        socket.on("close", () => proxy.pairs.delete(socket));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new TcpProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** Drops every open connection without a close frame, as a dead network does. */
  cut(): void {
    for (const socket of this.pairs) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
