/**
 * Counts Durable Object requests as workerd itself reports them: a tail worker attached to the
 * edgepush Worker receives one trace per invocation (the Worker's fetch, each room or gateway
 * RPC, each alarm) and answers the list on its own port. Bench only: the served config gets the
 * tail worker added; `npm run serve` never has it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One invocation: `class` is the Durable Object class, null for the Worker itself. */
export interface Invocation {
  class: string | null;
  /** The RPC method, `fetch`, or `alarm`. */
  method: string;
}

const TAIL_WORKER = `const seen = [];
export default {
  tail(events) {
    for (const e of events) {
      const method = e.event?.rpcMethod ?? (e.event?.request ? "fetch" : e.event?.scheduledTime !== undefined ? "alarm" : Object.keys(e.event ?? {})[0] ?? "?");
      seen.push({ class: e.executionModel === "durableObject" ? e.entrypoint ?? "?" : null, method });
    }
  },
  fetch(request) {
    const answer = Response.json(seen);
    if (new URL(request.url).pathname === "/take") seen.length = 0;
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

/** Reads and clears what the tail worker saw. */
export class InvocationCounter {
  constructor(private readonly url: string) {}

  /** Everything seen since the last take, once no new trace arrived for `quietMs` (traces lag). */
  async take(quietMs = 300): Promise<Invocation[]> {
    let count = -1;
    for (;;) {
      const seen = (await (await fetch(this.url)).json()) as Invocation[];
      if (seen.length === count) break;
      count = seen.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
    return (await (await fetch(`${this.url}/take`)).json()) as Invocation[];
  }
}
