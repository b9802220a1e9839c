/** One room's WebSocket: connect, resume, de-duplicate, keep alive, reconnect. */
import { ACK_EVERY_CHARS, CLOSE_KICKED, CLOSE_REMOVED_FROM_GROUP, PING, PONG } from "../src/contract/protocol";
import { backoffDelay, type BackoffOptions } from "./backoff";
import { parseServerFrame, type InitFrame, type JoinFrame, type PushFrame } from "./frames";
import type { EdgePushEvents, Group } from "./types";

/** Ids remembered per room for de-duplication; a replay never reaches further back than this. */
const SEEN_IDS = 1000;
/** Publishes held while a room reconnects; more is a caller that ignores `close` events. */
const MAX_OUTBOX = 100;

/** What a room needs from the client that owns it. */
export interface RoomHost {
  url: string;
  WebSocket: typeof WebSocket;
  backoff: BackoffOptions;
  pingInterval: number;
  pongTimeout: number;
  token(group: Group): Promise<string>;
  emit<K extends keyof EdgePushEvents>(type: K, event: EdgePushEvents[K]): void;
  onJoinFrame(frame: JoinFrame): void;
  /** The server ended this room for good (4000 kicked, 4001 removed from the group). */
  onEnded(group: Group, code: number): void;
}

type State = "idle" | "connecting" | "open" | "waiting" | "closed";

export class RoomSocket {
  /** Settles on the first open, or fails when the room ends before it ever opened. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private state: State = "idle";
  private ws: WebSocket | null = null;
  // Bumped whenever a socket is dropped, so its late events are ignored.
  private generation = 0;
  private attempt = 0;
  private lastSeq: number | null = null;
  private room = "";
  // Characters received on this socket since the last ack: the server closes a socket that falls far behind.
  private unacked = 0;
  private readonly seen = new Set<string>();
  private readonly outbox: string[] = [];
  private timers: { retry?: ReturnType<typeof setTimeout>; stable?: ReturnType<typeof setTimeout>;
    pong?: ReturnType<typeof setTimeout>; ping?: ReturnType<typeof setInterval> } = {};

  constructor(private readonly host: RoomHost, readonly group: Group) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A caller that ignores the promise must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  start(): void {
    if (this.state === "idle") void this.connect();
  }

  /** Sends a publish frame now, or once the room is open again. */
  publish(data: unknown, echo: boolean): void {
    if (this.state === "closed") throw new Error(`edgepush: group ${this.group} is closed; join it again`);
    const frame = JSON.stringify(echo ? { type: "publish", data } : { type: "publish", data, echo: false });
    if (this.state === "open" && this.ws) return this.ws.send(frame);
    if (this.outbox.length >= MAX_OUTBOX) throw new Error(`edgepush: ${MAX_OUTBOX} publishes already wait for group ${this.group}`);
    this.outbox.push(frame);
  }

  /** Closes for good (leave / close): no reconnect. */
  stop(code = 1000, reason = "client closed"): void {
    if (this.state === "closed") return;
    const ws = this.ws;
    this.end();
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
    this.host.emit("close", { group: this.group, code, reason, willReconnect: false });
  }

  private async connect(): Promise<void> {
    if (this.state === "closed") return;
    const generation = ++this.generation;
    this.state = "connecting";
    let token: string;
    try {
      token = await this.host.token(this.group);
    } catch (err) {
      if (generation !== this.generation) return;
      const message = err instanceof Error ? err.message : String(err);
      this.host.emit("error", { group: this.group, code: "token_failed", message });
      return this.retry();
    }
    if (generation !== this.generation) return;
    let ws: WebSocket;
    try {
      ws = new this.host.WebSocket(this.url(token));
    } catch (err) {
      this.host.emit("error", { group: this.group, code: "connect_failed", message: err instanceof Error ? err.message : String(err) });
      return this.retry();
    }
    this.ws = ws;
    this.unacked = 0;
    ws.addEventListener("message", (e) => {
      if (generation === this.generation) this.onMessage(e.data);
    });
    ws.addEventListener("close", (e) => {
      if (generation === this.generation) this.onClose(e.code, e.reason);
    });
    // Browsers follow an error with a close; Node 22's WebSocket may not after a refused upgrade
    // (nodejs/undici#3546), so the first of the two ends this socket and a late close is ignored.
    ws.addEventListener("error", () => {
      if (generation !== this.generation) return;
      this.generation++;
      try {
        ws.close();
      } catch {
        // already closing
      }
      this.onClose(1006, "connection failed");
    });
  }

  private url(token: string): string {
    const url = new URL(this.host.url);
    url.searchParams.set("token", token);
    if (this.group !== null) url.searchParams.set("group", this.group);
    if (this.lastSeq !== null) url.searchParams.set("since", String(this.lastSeq));
    return url.toString();
  }

  private onMessage(data: unknown): void {
    clearTimeout(this.timers.pong);
    this.timers.pong = undefined;
    if (typeof data !== "string") return;
    this.acknowledge(data);
    const frame = parseServerFrame(data);
    if (!frame) return;
    if (frame.type === "init") this.onInit(frame);
    else if (frame.type === "push") this.onPush(frame);
    else if (frame.type === "join") this.host.onJoinFrame(frame);
    else this.host.emit("error", { group: this.group, code: String(frame.code), message: String(frame.message) });
  }

  // Tells the server how much was read, so a reader that keeps up is never taken for a slow one.
  private acknowledge(text: string): void {
    if (text === PONG) return; // the runtime's answer, which the server does not count
    this.unacked += text.length;
    if (this.unacked < ACK_EVERY_CHARS || !this.ws) return;
    this.ws.send(JSON.stringify({ type: "ack", bytes: this.unacked }));
    this.unacked = 0;
  }

  private onInit(frame: InitFrame): void {
    const resumed = this.lastSeq !== null;
    // First connection: resume from here next time. A lower seq means the room's log restarted.
    if (this.lastSeq === null || frame.seq < this.lastSeq) this.lastSeq = frame.seq;
    this.state = "open";
    this.room = frame.room;
    this.timers.stable = setTimeout(() => (this.attempt = 0), this.host.backoff.stableAfter);
    this.timers.ping = setInterval(() => this.ping(), this.host.pingInterval);
    for (const queued of this.outbox.splice(0)) this.ws?.send(queued);
    this.host.emit("open", { group: this.group, room: frame.room, uid: frame.uid, clientId: frame.clientId, seq: frame.seq, resumed });
    this.resolveReady();
  }

  private onPush(frame: PushFrame): void {
    if (this.lastSeq === null || frame.seq > this.lastSeq) this.lastSeq = frame.seq;
    if (this.seen.has(frame.id)) return;
    this.seen.add(frame.id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value!);
    const { seq, id, data, ts } = frame;
    this.host.emit("message", { group: this.group, room: this.room, seq, id, data, ts });
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    this.clearTimers();
    if (code === CLOSE_KICKED || code === CLOSE_REMOVED_FROM_GROUP) {
      this.end();
      this.host.emit("close", { group: this.group, code, reason, willReconnect: false });
      this.host.onEnded(this.group, code);
      return;
    }
    this.host.emit("close", { group: this.group, code, reason, willReconnect: true });
    this.retry();
  }

  private ping(): void {
    if (this.state !== "open" || !this.ws) return;
    this.ws.send(PING);
    // Any frame clears this; silence means the network dropped the socket without a close.
    this.timers.pong ??= setTimeout(() => this.abandon(), this.host.pongTimeout);
  }

  private abandon(): void {
    const ws = this.ws;
    this.generation++;
    this.ws = null;
    this.clearTimers();
    try {
      ws?.close(1000, "no pong");
    } catch {
      // already closing
    }
    this.host.emit("close", { group: this.group, code: 1006, reason: "no pong", willReconnect: true });
    this.retry();
  }

  private retry(): void {
    // A `close` listener may have closed the client already.
    if (this.state === "closed") return;
    this.state = "waiting";
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.host.backoff, Math.random);
    // Armed before the event, so a `reconnecting` listener that closes the client cancels it.
    this.timers.retry = setTimeout(() => void this.connect(), delay);
    this.host.emit("reconnecting", { group: this.group, attempt: this.attempt, delay });
  }

  private end(): void {
    this.state = "closed";
    this.generation++;
    this.ws = null;
    this.clearTimers();
    this.outbox.length = 0;
    this.rejectReady(new Error(`edgepush: room ${this.group ?? "of the uid"} closed before it opened`));
  }

  private clearTimers(): void {
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.stable);
    clearTimeout(this.timers.pong);
    clearInterval(this.timers.ping);
    this.timers = {};
  }
}
