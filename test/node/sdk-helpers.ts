/** Helpers for the SDK and CLI suites: real WebSocket clients and a faulty proxy in front of wrangler dev. */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A connected WebSocket that queues what it receives. */
export interface TestClient {
  ws: WebSocket;
  messages: string[];
  /** The first `n` messages, waiting up to 10 s for them. */
  next(n: number): Promise<string[]>;
  /** Message `i` parsed as JSON. */
  json(i: number): Promise<any>;
  /**
   * The close code. Waits up to 20 s: in wrangler dev a server-side close (kick, revoke) reaches
   * the client's close event about 10 s after the room closes the socket.
   */
  closed(): Promise<number>;
}

export function openClient(url: string): Promise<TestClient> {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  let closeCode: number | null = null;
  ws.addEventListener("message", (e) => messages.push(String(e.data)));
  ws.addEventListener("close", (e) => (closeCode = e.code));
  const until = async (done: () => boolean, what: string, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (have ${messages.length} messages: ${messages.join(" | ")})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const client: TestClient = {
    ws,
    messages,
    next: async (n) => (await until(() => messages.length >= n, `${n} messages`), messages.slice(0, n)),
    json: async (i) => JSON.parse((await client.next(i + 1))[i]),
    closed: async () => (await until(() => closeCode !== null, "close", 20_000), closeCode!),
  };
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve(client));
    ws.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)));
  });
}

/** Polls `read` until `accept` holds (presence counts settle after the socket opens). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !accept(value); i++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/**
 * What the proxy does with one request: pass it on, pass it on but lose the answer (a 502 in its
 * place), answer by itself without forwarding, never answer, or cut the connection.
 */
export type Fault = "forward" | "lose-answer" | "hang" | "reset" | { status: number; body: string; headers?: Record<string, string> };

export interface FaultProxy {
  url: string;
  /** Bodies of every request that reached the proxy, in order. */
  bodies: string[];
  /** Faults for the next requests, in order; when empty, requests are forwarded. */
  faults: Fault[];
  close(): Promise<void>;
}

/** An HTTP proxy to `target` that misbehaves on purpose, to test retries end to end. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const proxy: FaultProxy = { url: "", bodies: [], faults: [], close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const body = await readAll(req);
    proxy.bodies.push(body);
    const fault = proxy.faults.shift() ?? "forward";
    if (fault === "hang") return;
    if (fault === "reset") return req.socket.destroy();
    if (typeof fault === "object") {
      res.writeHead(fault.status, { "Content-Type": "application/json", ...fault.headers });
      return res.end(fault.body);
    }
    const answer = await forward(target, req, body);
    if (fault === "lose-answer") {
      res.writeHead(502, { "Content-Type": "text/html" });
      return res.end("<html><body>502 Bad Gateway</body></html>");
    }
    res.writeHead(answer.status, { "Content-Type": "application/json" });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return proxy;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function forward(target: string, req: IncomingMessage, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // identity: the proxy hands the body on as text, so it must not arrive compressed.
    const headers = { ...req.headers, host: new URL(target).host, "accept-encoding": "identity", "content-length": String(Buffer.byteLength(body)) };
    const upstream = request(`${target}${req.url}`, { method: req.method, headers }, (res) => {
      readAll(res).then((text) => resolve({ status: res.statusCode ?? 502, body: text }), reject);
    });
    upstream.on("error", reject);
    upstream.end(body);
  });
}
