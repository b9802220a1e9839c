/** Shared helpers for the Workers-runtime suite: real upgrades and real HTTP calls to the Worker. */
import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";

export const PUSH_SECRET = "test-push-secret";
export const TOKEN_SECRET = "test-token-secret";
const BASE = "https://edgepush.test";

/** A signed client token; override claims to make bad ones. */
export async function token(uid: string, claims: Record<string, unknown> = {}, secret = TOKEN_SECRET): Promise<string> {
  return sign({ sub: uid, exp: Math.floor(Date.now() / 1000) + 600, ...claims }, secret, "HS256");
}

/** A backend call with the right secret unless `headers` say otherwise. */
export function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${PUSH_SECRET}`);
  // A string body would get text/plain from fetch; bytes go out with no Content-Type at all.
  let body: BodyInit | null | undefined = typeof init.body === "string" ? new TextEncoder().encode(init.body) : init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(`${BASE}${path}`, { method: init.json !== undefined ? "POST" : init.method, ...init, headers, body });
}

export async function push(body: unknown): Promise<Record<string, any>> {
  const res = await api("/push", { json: body });
  const answer = (await res.json()) as Record<string, any>;
  if (res.status !== 200) throw new Error(`push ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** A connected test client that queues what it receives. */
export class Client {
  readonly messages: string[] = [];
  closeCode: number | null = null;
  closeReason = "";
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      this.messages.push(typeof e.data === "string" ? e.data : "<binary>");
      this.wake();
    });
    ws.addEventListener("close", (e) => {
      this.closeCode = e.code;
      this.closeReason = e.reason;
      this.wake();
    });
    ws.accept();
  }

  /** Waits until `n` messages have arrived (or fails after `ms`). */
  async waitFor(n: number, ms = 5000): Promise<string[]> {
    await this.until(() => this.messages.length >= n, ms, `${n} messages (have ${this.messages.length})`);
    return this.messages.slice(0, n);
  }

  async json(index: number): Promise<any> {
    await this.waitFor(index + 1);
    return JSON.parse(this.messages[index]);
  }

  async closed(ms = 5000): Promise<number> {
    await this.until(() => this.closeCode !== null, ms, "close");
    return this.closeCode!;
  }

  send(text: string | ArrayBuffer): void {
    this.ws.send(text);
  }

  close(): void {
    try {
      this.ws.close(1000, "bye");
    } catch {
      // closed already
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(ok: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      // The timer is cleared when a message wakes us first: workerd allows 10 000 pending timers
      // per isolate, and a long wait (or a long property run) would otherwise leave one per wake.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }
}

/** Upgrades `GET /ws?query`; returns the response when it is not a 101. */
export async function upgrade(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`${BASE}/ws?${query}`, { headers: { Upgrade: "websocket", ...headers } });
}

/** Connects with a token and consumes the init frame. */
export async function connect(uid: string, opts: { groups?: string[]; group?: string; extra?: string } = {}) {
  const t = await token(uid, opts.groups ? { groups: opts.groups } : {});
  let query = `token=${t}`;
  if (opts.group) query += `&group=${opts.group}`;
  if (opts.extra) query += `&${opts.extra}`;
  const res = await upgrade(query);
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade ${res.status}: ${await res.text()}`);
  const client = new Client(res.webSocket);
  const init = await client.json(0);
  client.messages.shift();
  return { client, init };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sentinels = 0;

/**
 * What `client` received before a sentinel pushed to `target` (live only) reached it; the sentinel
 * itself is taken out of `client.messages`. A room sends to a socket in order, so whatever was on
 * its way to this socket before the push has arrived once the sentinel has: "nothing else came"
 * is checked without guessing a sleep. `target` must reach `client`: its `{clientId}`, or its
 * `{uid}` for a socket of that uid's room (a legacy one, say).
 */
export async function receivedBefore(client: Client, target: { clientId: string } | { uid: string }): Promise<string[]> {
  const mark = `sentinel-${sentinels++}`;
  const to = "clientId" in target ? { clientId: target.clientId } : { uid: target.uid };
  await push({ ...to, data: mark, ttl: 0 });
  const at = () => client.messages.findIndex((m) => m.includes(mark));
  while (at() < 0) await client.waitFor(client.messages.length + 1);
  const before = client.messages.slice(0, at());
  client.messages.splice(at(), 1);
  return before;
}

/**
 * Waits until the room's own clock is past the expiry of its `count` soonest-expiring log rows, so
 * a ttl test never races a sleep against the ttl.
 */
export async function untilExpired(room: string, count = 1, ms = 10_000): Promise<void> {
  const stub = env.ROOMS.getByName(room);
  const rows = await runInDurableObject(stub, (_instance, state) =>
    state.storage.sql.exec<{ expires: number }>("SELECT expires FROM log WHERE expires > 0 ORDER BY expires LIMIT ?", count).toArray());
  if (rows.length < count) throw new Error(`${room} has ${rows.length} log rows, expected at least ${count}`);
  const at = rows[count - 1].expires;
  const deadline = Date.now() + ms;
  // The room's clock, not the test's: expiry is decided there.
  while (!(await runInDurableObject(stub, () => Date.now() > at))) {
    if (Date.now() > deadline) throw new Error(`${room}: still before ${at} after ${ms} ms`);
    await sleep(50);
  }
}
