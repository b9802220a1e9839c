/**
 * The baselines the benchmark measures edgepush against. Thin: Hono route → Durable Object RPC →
 * `ws.send`, with no auth, no validation, no log, no directory. Durable: the same plus one SQLite
 * row per push in the room's storage, on the same disk as edgepush's, so the bench tells
 * edgepush's own overhead from the disk's fsync. Same wire shapes as edgepush (`POST /push` with
 * one message or an array, `GET /ws?uid=…|group=…`, push envelopes), so the bench's clients work
 * unchanged. Built and served by the bench itself (the class bound as ROOMS picks which); never deployed.
 */
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

interface Env {
  ROOMS: DurableObjectNamespace<BaselineRoom | DurableRoom>;
}

interface Message {
  uid?: string;
  group?: string;
  data?: unknown;
}

/** One room: hibernatable sockets, fan-out of each message to all of them. */
export class BaselineRoom extends DurableObject<Env> {
  private seq = 0;

  async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  push(payloads: string[]): number[] {
    const sockets = this.ctx.getWebSockets();
    return payloads.map((data) => {
      const text = `{"type":"push","seq":${++this.seq},"data":${data},"ts":${Date.now()}}`;
      this.store(this.seq, data);
      for (const ws of sockets) ws.send(text);
      return sockets.length;
    });
  }

  /** The thin baseline keeps nothing. */
  protected store(_seq: number, _data: string): void {}
}

/** The durable baseline: the thin one plus one SQLite row per push (a SQLite-backed class). */
export class DurableRoom extends BaselineRoom {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)");
  }

  protected override store(seq: number, data: string): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO log (seq, data) VALUES (?, ?)", seq, data);
  }
}

const app = new Hono<{ Bindings: Env }>();

app.get("/health", (c) => c.json({ ok: true }));

app.get("/ws", (c) => {
  const uid = c.req.query("uid");
  const room = uid ? `uid:${uid}` : `group:${c.req.query("group")}`;
  return c.env.ROOMS.getByName(room).fetch(c.req.raw);
});

app.post("/push", async (c) => {
  const body = (await c.req.json()) as Message | Message[];
  const messages = Array.isArray(body) ? body : [body];
  const rooms = new Map<string, { payloads: string[]; owners: number[] }>();
  messages.forEach((m, i) => {
    const room = m.uid !== undefined ? `uid:${m.uid}` : `group:${m.group}`;
    const batch = rooms.get(room) ?? { payloads: [], owners: [] };
    batch.payloads.push(JSON.stringify(m.data ?? null));
    batch.owners.push(i);
    rooms.set(room, batch);
  });
  const delivered = new Array<number>(messages.length).fill(0);
  await Promise.all(
    [...rooms].map(async ([room, batch]) => {
      const counts = await c.env.ROOMS.getByName(room).push(batch.payloads);
      counts.forEach((n, j) => (delivered[batch.owners[j]] = n));
    }),
  );
  if (!Array.isArray(body)) return c.json({ ok: true, delivered: delivered[0] });
  return c.json({ results: delivered.map((n) => ({ ok: true, delivered: n })) });
});

export default app satisfies ExportedHandler<Env>;
