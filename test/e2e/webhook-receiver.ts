/** A real HTTP receiver of webhooks on 127.0.0.1 for the end-to-end tests: records every delivery, answers as told. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (0: nothing, it hung). */
  status: number;
  at: number;
}

/** How the receiver answers: 200, a status for the next N requests to `path`, or never (a dead endpoint). */
export type Mode = { kind: "ok" } | { kind: "hang" } | { kind: "fail"; status: number; next: number; path: string };

export interface Receiver {
  url(path?: string): string;
  deliveries: Delivery[];
  mode: Mode;
  /** Every edgepush-format event received on `path`, in arrival order (retries included). */
  events(path?: string): Record<string, any>[];
  /** Waits up to `ms` for `check` to return something. */
  until<T>(check: () => T | undefined | false, what: string, ms?: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: () => "",
    deliveries: [],
    mode: { kind: "ok" },
    events: (path = "/hooks") =>
      receiver.deliveries.filter((d) => d.path === path && d.headers["x-edgepush-signature"]).flatMap((d) => JSON.parse(d.body).events),
    until: async (check, what, ms = 20_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${receiver.deliveries.length} deliveries`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const mode = receiver.mode;
      let status = 200;
      if (mode.kind === "hang") status = 0;
      else if (mode.kind === "fail" && mode.next > 0 && req.url === mode.path) {
        status = mode.status;
        if (--mode.next === 0) receiver.mode = { kind: "ok" };
      }
      receiver.deliveries.push({ path: req.url ?? "", headers: req.headers, body, status, at: Date.now() });
      if (status === 0) return; // never answers
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end(status === 200 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = (path = "/hooks") => `http://127.0.0.1:${port}${path}`;
  receiver.stop = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return receiver;
}
