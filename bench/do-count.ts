/**
 * Counts Durable Object requests as workerd itself reports them: a tail worker attached to the
 * edgepush Worker receives one trace per invocation (the Worker's fetch, each room or gateway
 * RPC, each alarm) and answers the list on its own port. Bench only: the served config gets the
 * tail worker added; `npm run serve` never has it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Invocations counted by `Class.method` (`Worker.fetch` for the Worker itself; `alarm` for alarms). */
export type Invocations = Record<string, number>;

// Counts only (no list): the tail worker's memory stays flat however many requests it sees,
// so the server's RSS can be measured with it attached.
const TAIL_WORKER = `let counts = {};
export default {
  tail(events) {
    for (const e of events) {
      const method = e.event?.rpcMethod ?? (e.event?.request ? "fetch" : e.event?.scheduledTime !== undefined ? "alarm" : Object.keys(e.event ?? {})[0] ?? "?");
      const key = (e.executionModel === "durableObject" ? e.entrypoint ?? "?" : "Worker") + "." + method;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  },
  fetch(request) {
    const answer = Response.json(counts);
    if (new URL(request.url).pathname === "/take") counts = {};
    return answer;
  },
};
`;

// Anchors in scripts/serve.capnp.template's output; a changed template fails loudly here.
const ANCHORS = {
  services: '(name = "main", worker = .worker),',
  sockets: "sockets = [",
  worker: 'durableObjectStorage = (localDisk = "storage"),',
} as const;

/** Adds the counting tail worker (answering on `port`) to a config written by writeServeConfig. */
export function addInvocationCounter(configPath: string, port: number, compatibilityDate: string): void {
  let text = readFileSync(configPath, "utf8");
  for (const anchor of Object.values(ANCHORS)) {
    if (!text.includes(anchor)) throw new Error(`bench/do-count.ts: ${configPath} has no ${anchor}; update the anchors`);
  }
  writeFileSync(join(dirname(configPath), "bench-tail.js"), TAIL_WORKER);
  text = text
    .replace(ANCHORS.services, `${ANCHORS.services}\n    (name = "bench-tail", worker = (compatibilityDate = "${compatibilityDate}", modules = [(name = "tail.js", esModule = embed "bench-tail.js")])),`)
    .replace(ANCHORS.sockets, `${ANCHORS.sockets}(name = "bench-tail", address = "127.0.0.1:${port}", http = (), service = "bench-tail"), `)
    .replace(ANCHORS.worker, `${ANCHORS.worker}\n  tails = ["bench-tail"],`);
  writeFileSync(configPath, text);
}

/** Reads and clears what the tail worker counted. */
export class InvocationCounter {
  constructor(private readonly url: string) {}

  /** Everything counted since the last take, once no new trace arrived for `quietMs` (traces lag). */
  async take(quietMs = 300): Promise<Invocations> {
    let total = -1;
    for (;;) {
      const counts = (await (await fetch(this.url)).json()) as Invocations;
      const now = Object.values(counts).reduce((a, b) => a + b, 0);
      if (now === total) break;
      total = now;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    return (await (await fetch(`${this.url}/take`)).json()) as Invocations;
  }
}
