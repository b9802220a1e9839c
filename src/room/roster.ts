/** Who is in a room, as the rest of the deployment sees it: directory reports, heartbeat, closes. */
import type { RoomName } from "../contract/names";
import { CLOSE_HEARTBEAT, CLOSE_INTERNAL } from "../contract/protocol";
import { safeDirectoryConfig, type DirectoryConfig } from "../directory/config";
import type { Env } from "../env";
import { errorText, logEvent } from "../util/log";
import { RoomReporter } from "./reporter";
import type { SocketAttachment, SocketTarget } from "./types";

/** A report a shard missed is retried this soon by the room's alarm. */
const RETRY_MS = 5_000;
/** Longest a connect or close waits for the directory before going on without it. */
const SETTLE_MS = 5_000;

/** The room's socket map; tells its listener whenever a socket comes or goes. */
export class SocketMap extends Map<WebSocket, SocketAttachment> {
  onChange: (() => void) | null = null;

  override set(ws: WebSocket, attachment: SocketAttachment): this {
    const added = !this.has(ws);
    super.set(ws, attachment);
    if (added) this.onChange?.();
    return this;
  }

  override delete(ws: WebSocket): boolean {
    const removed = super.delete(ws);
    if (removed) this.onChange?.();
    return removed;
  }
}

/**
 * Keeps the directory in step with a room's sockets (one report in flight, the next carries
 * every change made meanwhile), closes silent sockets, and keeps one alarm covering both.
 */
export class RoomRoster {
  private readonly config: DirectoryConfig;
  private readonly reporter: RoomReporter;
  private running: Promise<void> | null = null;
  private dirty = false;
  private forced = false;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
    private readonly sockets: SocketMap,
    private readonly room: () => RoomName | null,
    private readonly scheduleAlarm: (at: number) => void,
  ) {
    this.config = safeDirectoryConfig(env);
    this.reporter = new RoomReporter(ctx.storage.sql, env, this.config);
    sockets.onChange = () => this.changed();
  }

  /** Resolves once every change so far reached the directory (or was left to the alarm). */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)));
    // A pending timer would keep the room from hibernating: clear it as soon as the report lands.
    return Promise.race([this.running, timeout]).finally(() => clearTimeout(timer));
  }

  /** Re-sends the room's whole state; a shard calls it on a room that went quiet. */
  resync(): Promise<void> {
    return this.sync(true);
  }

  /** Closes the target's sockets with `code`; resolves with how many once the directory knows. */
  async close(target: SocketTarget, code: number, reason: string): Promise<number> {
    const tag = "uid" in target ? `u:${target.uid}` : `c:${target.clientId}`;
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(tag)) {
      if (!this.sockets.has(ws)) continue;
      this.closeSocket(ws, code, reason);
      closed++;
    }
    await this.settled();
    return closed;
  }

  /** Sends a control frame to every token-authenticated socket; legacy ones get payloads only. */
  notify(frame: string): number {
    let sent = 0;
    for (const [ws, attachment] of this.sockets) {
      if (attachment.legacy || ws.readyState !== WebSocket.OPEN) continue;
      try {
        ws.send(frame);
        sent++;
      } catch {
        this.closeSocket(ws, CLOSE_INTERNAL, "send failed");
      }
    }
    return sent;
  }

  /**
   * The room's alarm: close silent sockets, report what changed, re-arm. A room with sockets
   * always has an alarm within the lease: if it crashed (its sockets gone without a close
   * handler), that alarm wakes a fresh instance with no sockets, which withdraws the room.
   * A healthy quiet room reports nothing: the wake-up costs one request and no rows.
   */
  async alarm(now: number): Promise<void> {
    const nextBeat = this.sweep(now);
    await this.sync(false);
    if (this.sockets.size === 0) return;
    this.scheduleAlarm(now + this.config.leaseMs);
    if (nextBeat !== null) this.scheduleAlarm(nextBeat);
  }

  private changed(): void {
    const now = Date.now();
    if (this.sockets.size > 0) {
      this.scheduleAlarm(now + this.config.leaseMs);
      if (this.config.heartbeatMs > 0) this.scheduleAlarm(now + this.config.heartbeatMs);
    }
    this.ctx.waitUntil(this.sync(false));
  }

  private sync(force: boolean): Promise<void> {
    this.dirty = true;
    this.forced ||= force;
    return (this.running ??= this.drain().finally(() => (this.running = null)));
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const force = this.forced;
      this.forced = false;
      const room = this.room();
      if (!room) return;
      const ok = await this.reporter.report(room, [...this.sockets.values()], force).catch((err: unknown) => {
        logEvent("room_error", { class: "RoomRoster", room, method: "report", error: errorText(err) }, "error");
        return false;
      });
      if (!ok) this.scheduleAlarm(Date.now() + RETRY_MS);
    }
  }

  // Closes sockets whose last `ping` (or connect, if they never pinged) is older than the
  // timeout; the runtime answers pings itself and records when (no wake-up per ping).
  // Returns when the next socket would time out, or null when no socket is watched.
  private sweep(now: number): number | null {
    const timeout = this.config.heartbeatMs;
    if (timeout === 0) return null;
    let next: number | null = null;
    for (const [ws, attachment] of this.sockets) {
      if (attachment.legacy) continue; // the seed's clients never ping
      const last = Math.max(this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, attachment.connectedAt);
      if (now - last > timeout) this.closeSocket(ws, CLOSE_HEARTBEAT, `no ping for ${timeout / 1000} s`);
      else next = Math.min(next ?? Infinity, last + timeout + 1);
    }
    return next === null ? null : Math.max(next, now + 1000);
  }

  private closeSocket(ws: WebSocket, code: number, reason: string): void {
    this.sockets.delete(ws);
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }
}
