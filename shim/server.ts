/** The TCP line shim: the seed's `text://127.0.0.1:5678` port, forwarding to `POST /push`. */
import { createServer, type Socket } from "node:net";
import { serveConnection } from "./connection";
import { coalescingSender, directSender } from "./forwarder";
import type { Sender } from "./lane";
import { PushClient } from "./push-client";

export interface ShimOptions {
  host: string;
  /** 0 picks a free port (see `Shim.port`). */
  port: number;
  /** Base URL of edgepush, e.g. http://127.0.0.1:8787. */
  url: string;
  secret: string;
  maxLineBytes: number;
  /** Coalesce lines arriving within this many ms into batch calls; 0 sends one call per line. */
  batchMs?: number;
  /** Receives one line per failure; stderr by default. */
  log?: (message: string) => void;
}

export interface Shim {
  host: string;
  port: number;
  /** Stops accepting, waits (up to `graceMs`) for pushes in flight, then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the shim and resolves once it listens.
 * @example const shim = await startShim({ host: "127.0.0.1", port: 5678, url, secret, maxLineBytes: 1 << 20 })
 */
export async function startShim(options: ShimOptions): Promise<Shim> {
  const log = options.log ?? ((message: string) => process.stderr.write(`[shim] ${message}\n`));
  const client = new PushClient(options.url, options.secret);
  const inner = options.batchMs ? coalescingSender(client, options.batchMs) : directSender(client);
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(pushed: Promise<T>): Promise<T> => {
    inFlight.add(pushed);
    void pushed.finally(() => inFlight.delete(pushed));
    return pushed;
  };
  const sender: Sender = { one: (line) => track(inner.one(line)), many: (lines) => track(inner.many(lines)) };

  const sockets = new Set<Socket>();
  // Half-open: a backend may shut down its side after its last line and still read the answers.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveConnection(socket, { sender, log, maxLineBytes: options.maxLineBytes });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log(`server error: ${err.message}`));
  const { address, port } = server.address() as { address: string; port: number };

  return {
    host: address,
    port,
    async close(graceMs = 2000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Lines waiting in a lane go out as the call ahead of them settles: wait for those too.
      const deadline = Date.now() + graceMs;
      while (inFlight.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled([...inFlight]), delay(deadline - Date.now())]);
      }
      // end() lets the last answers reach the backend; destroy() whoever does not hang up.
      for (const socket of sockets) socket.end();
      await Promise.race([closed, delay(500)]);
      for (const socket of sockets) socket.destroy();
      client.close();
      await closed;
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
