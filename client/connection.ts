/**
 * One reconnecting WebSocket, whatever it carries: a room's `/ws` socket or the multiplexed
 * `/gateway` one. Owns the socket, the backoff between attempts and the keep-alive; the owner
 * says what URL to dial, reads the frames, and decides whether a drop is worth a retry.
 */
import { backoffDelay, type BackoffOptions } from "./backoff";

export interface ConnectionSettings {
  WebSocket: typeof WebSocket;
  backoff: BackoffOptions;
  pingInterval: number;
  pongTimeout: number;
  /** The keep-alive frame; any frame back counts as its answer. */
  ping: string;
}

export interface ConnectionHooks {
  /** The URL of the next attempt (it carries a fresh token); a throw is reported as `token_failed`. */
  url(): Promise<string>;
  onText(text: string): void;
  /** The socket dropped; true to try again after the backoff (the owner emits its `close` here). */
  onDrop(code: number, reason: string): boolean;
  onError(code: "token_failed" | "connect_failed", message: string): void;
  /** A retry is armed; a listener that stops the connection from here cancels it. */
  onReconnecting(attempt: number, delay: number): void;
}

type State = "idle" | "connecting" | "open" | "waiting" | "closed";

export class Connection {
  private state: State = "idle";
  private ws: WebSocket | null = null;
  // Bumped whenever a socket is dropped, so its late events are ignored.
  private generation = 0;
  private attempt = 0;
  private timers: { retry?: ReturnType<typeof setTimeout>; stable?: ReturnType<typeof setTimeout>;
    pong?: ReturnType<typeof setTimeout>; ping?: ReturnType<typeof setInterval> } = {};

  constructor(private readonly settings: ConnectionSettings, private readonly hooks: ConnectionHooks) {}

  get isOpen(): boolean {
    return this.state === "open";
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  start(): void {
    if (this.state === "idle") void this.connect();
  }

  /** The protocol's first frame arrived: the socket is live; keep it alive from here. */
  opened(): void {
    this.state = "open";
    this.timers.stable = setTimeout(() => (this.attempt = 0), this.settings.backoff.stableAfter);
    this.timers.ping = setInterval(() => this.ping(), this.settings.pingInterval);
  }

  /** Sends now when open; false otherwise (the caller holds the frame). */
  send(text: string): boolean {
    if (this.state !== "open" || !this.ws) return false;
    this.ws.send(text);
    return true;
  }

  /** Closes for good; true when there was a socket to close. */
  stop(code: number, reason: string): boolean {
    if (this.state === "closed") return false;
    const ws = this.ws;
    this.state = "closed";
    this.drop();
    if (!ws) return false;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
    return true;
  }

  private async connect(): Promise<void> {
    if (this.state === "closed") return;
    const generation = ++this.generation;
    this.state = "connecting";
    let url: string;
    try {
      url = await this.hooks.url();
    } catch (err) {
      if (generation !== this.generation) return;
      this.hooks.onError("token_failed", err instanceof Error ? err.message : String(err));
      return this.retry();
    }
    if (generation !== this.generation) return;
    let ws: WebSocket;
    try {
      ws = new this.settings.WebSocket(url);
    } catch (err) {
      this.hooks.onError("connect_failed", err instanceof Error ? err.message : String(err));
      return this.retry();
    }
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      if (generation !== this.generation) return;
      clearTimeout(this.timers.pong);
      this.timers.pong = undefined;
      if (typeof e.data === "string") this.hooks.onText(e.data);
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

  private onClose(code: number, reason: string): void {
    this.ws = null;
    this.clearTimers();
    if (this.hooks.onDrop(code, reason)) this.retry();
    else if (this.state !== "closed") this.stop(1000, "ended");
  }

  private ping(): void {
    if (this.state !== "open" || !this.ws) return;
    this.ws.send(this.settings.ping);
    // Any frame clears this; silence means the network dropped the socket without a close.
    this.timers.pong ??= setTimeout(() => this.abandon(), this.settings.pongTimeout);
  }

  private abandon(): void {
    const ws = this.ws;
    this.drop();
    try {
      ws?.close(1000, "no pong");
    } catch {
      // already closing
    }
    if (this.hooks.onDrop(1006, "no pong")) this.retry();
  }

  private retry(): void {
    // A `close` listener may have closed the client already.
    if (this.state === "closed") return;
    this.state = "waiting";
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.settings.backoff, Math.random);
    // Armed before the event, so a `reconnecting` listener that closes the client cancels it.
    this.timers.retry = setTimeout(() => void this.connect(), delay);
    this.hooks.onReconnecting(this.attempt, delay);
  }

  private drop(): void {
    this.generation++;
    this.ws = null;
    this.clearTimers();
  }

  private clearTimers(): void {
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.stable);
    clearTimeout(this.timers.pong);
    clearInterval(this.timers.ping);
    this.timers = {};
  }
}
