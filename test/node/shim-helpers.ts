/** A stand-in edgepush (`POST /push` on a real local HTTP server) and a raw TCP backend. */
import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";

export const FAKE_SECRET = "fake-push-secret";

export interface Received {
  body: string;
  authorization: string | undefined;
  contentType: string | undefined;
}

export interface FakeEdgepush {
  url: string;
  /** Bodies of every `POST /push`, in arrival order. */
  received: Received[];
  /** TCP connections the shim opened to us. */
  connections: number;
  /** Authenticated-or-not `GET /stats` calls (the shim CLI's start-up check). */
  statsChecks: number;
  /** Uids whose answers wait until `release(uid)`. */
  hold(uid: string): void;
  release(uid: string): void;
  waitForRequests(n: number): Promise<Received[]>;
  close(): Promise<void>;
}

/**
 * Answers like edgepush: uids starting with "on" are live (delivered 1), others offline
 * (delivered 0, queued 1); a JSON array gets `{"results":[…]}`; `GET /stats` zeros; a wrong secret 401.
 * `port` 0 picks a free one.
 */
export async function startFakeEdgepush(port = 0): Promise<FakeEdgepush> {
  const received: Received[] = [];
  const held = new Map<string, Array<() => void>>();
  const holding = new Set<string>();
  let connections = 0;
  let statsChecks = 0;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const authorized = req.headers.authorization === `Bearer ${FAKE_SECRET}`;
    const refusal = { error: { code: "unauthorized", message: "wrong PUSH_SECRET" } };
    // The shim CLI's start-up check; not one of the pushes the tests count.
    if (req.method === "GET" && req.url === "/stats") {
      statsChecks++;
      return authorized ? reply(200, { connections: 0, rooms: 0, uids: 0, groups: 0 }) : reply(401, refusal);
    }
    received.push({ body, authorization: req.headers.authorization, contentType: req.headers["content-type"] });
    if (!authorized) return reply(401, refusal);
    const value = JSON.parse(body);
    if (Array.isArray(value)) return reply(200, { results: value.map(answerFor) });
    if (holding.has(value.uid)) await new Promise<void>((resolve) => held.set(value.uid, [...(held.get(value.uid) ?? []), resolve]));
    reply(200, answerFor(value));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: listening } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${listening}`,
    received,
    get connections() {
      return connections;
    },
    get statsChecks() {
      return statsChecks;
    },
    hold: (uid) => holding.add(uid),
    release(uid) {
      holding.delete(uid);
      for (const resolve of held.get(uid) ?? []) resolve();
      held.delete(uid);
    },
    waitForRequests: (n) => waitFor(() => (received.length >= n ? received.slice(0, n) : undefined), `${n} requests`),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answerFor(message: { uid?: string }) {
  const live = typeof message.uid === "string" && message.uid.startsWith("on");
  return { ok: true, id: "m", delivered: live ? 1 : 0, queued: 1 };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

export interface Backend {
  socket: Socket;
  /** Everything the shim has answered so far. */
  text(): string;
  /** Waits for `n` answer lines and returns them without their `\n`. */
  lines(n: number): Promise<string[]>;
  /** Resolves when the shim closes the connection. */
  closed: Promise<void>;
}

/** A backend speaking the seed's text protocol over a real TCP connection. */
export function connectBackend(port: number): Promise<Backend> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    const closed = new Promise<void>((done) => socket.on("close", () => done()));
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        socket,
        text: () => text,
        closed,
        lines: (n) =>
          waitFor(() => {
            const lines = text.split("\n").slice(0, -1);
            return lines.length >= n ? lines.slice(0, n) : undefined;
          }, () => `${n} answer lines, have ${JSON.stringify(text.slice(-80))}`),
      }),
    );
  });
}

/** Polls `check` until it returns a value; fails after 20 s naming what it waited for. */
export async function waitFor<T>(check: () => T | undefined, what: string | (() => string), timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The uid of the sentinel's line, for tests to leave out of what the fake edgepush received. */
export const SENTINEL_UID = "on-sentinel";

/**
 * Sends a line from another backend and waits for its answer. It is written after, and travels
 * further than (shim, edgepush, shim, backend), anything the shim was about to write or push:
 * once it is back, "nothing else came" is checked without guessing a sleep.
 */
export async function sentinel(port: number): Promise<void> {
  const backend = await connectBackend(port);
  backend.socket.write(`{"uid":"${SENTINEL_UID}"}\n`);
  await backend.lines(1);
  backend.socket.destroy();
}
