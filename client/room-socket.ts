/** One room's `/ws` socket: connect, resume, de-duplicate, keep alive, reconnect. */
import { ACK_EVERY_CHARS, CLOSE_KICKED, CLOSE_REMOVED_FROM_GROUP, PING, PONG } from "../src/contract/protocol";
import type { BackoffOptions } from "./backoff";
import { Connection } from "./connection";
import { RoomCursor } from "./cursor";
import { parseServerFrame, type InitFrame, type JoinFrame, type PushFrame } from "./frames";
import type { EdgePushEvents, Group } from "./types";

/** Publishes held while a room reconnects; more is a caller that ignores `close` events. */
export const MAX_OUTBOX = 100;

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

/** A promise settled from outside, that never counts as an unhandled rejection. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class RoomSocket {
  /** Settles on the first open, or fails when the room ends before it ever opened. */
  readonly ready: Promise<void>;
  private readonly settle = deferred();
  private readonly connection: Connection;
  private readonly cursor = new RoomCursor();
  private room = "";
  private readonly outbox: string[] = [];
  // Characters read on this socket since the last ack: the server closes a socket that falls far behind.
  private unacked = 0;

  constructor(private readonly host: RoomHost, readonly group: Group) {
    this.ready = this.settle.promise;
    this.connection = new Connection({ ...host, ping: PING }, {
      url: async () => this.url(await this.host.token(this.group)),
      onText: (text) => this.onMessage(text),
      onDrop: (code, reason) => this.onDrop(code, reason),
      onError: (code, message) => this.host.emit("error", { group: this.group, code, message }),
      onReconnecting: (attempt, delay) => this.host.emit("reconnecting", { group: this.group, attempt, delay }),
    });
  }

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  start(): void {
    this.connection.start();
  }

  /** Sends a publish frame now, or once the room is open again. */
  publish(data: unknown, echo: boolean): void {
    if (this.connection.isClosed) throw new Error(`edgepush: group ${this.group} is closed; join it again`);
    const frame = JSON.stringify(echo ? { type: "publish", data } : { type: "publish", data, echo: false });
    if (this.connection.send(frame)) return;
    if (this.outbox.length >= MAX_OUTBOX) throw new Error(`edgepush: ${MAX_OUTBOX} publishes already wait for group ${this.group}`);
    this.outbox.push(frame);
  }

  /** Closes for good (leave / close): no reconnect. */
  stop(code = 1000, reason = "client closed"): void {
    if (this.connection.isClosed) return;
    const hadSocket = this.connection.stop(code, reason);
    this.end();
    if (hadSocket) this.host.emit("close", { group: this.group, code, reason, willReconnect: false });
  }

  private url(token: string): string {
    const url = new URL(this.host.url);
    url.searchParams.set("token", token);
    if (this.group !== null) url.searchParams.set("group", this.group);
    if (this.cursor.lastSeq !== null) url.searchParams.set("since", String(this.cursor.lastSeq));
    return url.toString();
  }

  private onMessage(text: string): void {
    this.acknowledge(text);
    const frame = parseServerFrame(text);
    if (!frame) return;
    if (frame.type === "init") {
      if ("clientId" in frame) this.onInit(frame);
    } else if (frame.type === "push") this.onPush(frame);
    else if (frame.type === "join") this.host.onJoinFrame(frame);
    else if (frame.type === "error") this.host.emit("error", { group: this.group, code: String(frame.code), message: String(frame.message) });
  }

  // Tells the server how much was read, so a reader that keeps up is never taken for a slow one.
  // The server counts from after its init frame (replay and live), and never counts `pong`.
  private acknowledge(text: string): void {
    if (text === PONG) return;
    this.unacked += text.length;
    if (this.unacked >= ACK_EVERY_CHARS && this.connection.send(JSON.stringify({ type: "ack", bytes: this.unacked }))) this.unacked = 0;
  }

  private onInit(frame: InitFrame): void {
    this.unacked = 0; // a new socket
    const resumed = this.cursor.opened(frame.seq);
    this.room = frame.room;
    this.connection.opened();
    for (const queued of this.outbox.splice(0)) this.connection.send(queued);
    this.host.emit("open", { group: this.group, room: frame.room, uid: frame.uid, clientId: frame.clientId, seq: frame.seq, resumed });
    this.settle.resolve();
  }

  private onPush(frame: PushFrame): void {
    if (!this.cursor.accept(frame.seq, frame.id)) return;
    const { seq, id, data, ts } = frame;
    this.host.emit("message", { group: this.group, room: this.room, seq, id, data, ts });
  }

  private onDrop(code: number, reason: string): boolean {
    if (code === CLOSE_KICKED || code === CLOSE_REMOVED_FROM_GROUP) {
      this.connection.stop(code, reason);
      this.end();
      this.host.emit("close", { group: this.group, code, reason, willReconnect: false });
      this.host.onEnded(this.group, code);
      return false;
    }
    this.host.emit("close", { group: this.group, code, reason, willReconnect: true });
    return true;
  }

  private end(): void {
    this.outbox.length = 0;
    this.settle.reject(new Error(`edgepush: room ${this.group ?? "of the uid"} closed before it opened`));
  }
}
