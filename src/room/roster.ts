/** Who is in a room, as the rest of the deployment sees it: directory reports, heartbeat, closes. */
import type { RoomName } from "../contract/names";
import { CLOSE_HEARTBEAT, CLOSE_INTERNAL, CLOSE_TOKEN_EXPIRED } from "../contract/protocol";
import { safeDirectoryConfig, type DirectoryConfig } from "../directory/config";
import type { Env } from "../env";
import { errorText, logEvent } from "../util/log";
import { ReportLoop } from "../directory/report-loop";
import { RoomReporter } from "../directory/reporter";
import type { RemoteSummary } from "../directory/types";
import type { SocketAttachment, SocketTarget } from "./types";

/** A report a shard missed is retried this soon by the room's alarm. */
const RETRY_MS = 5_000;

/** The room's socket map; tells its listeners whenever a socket comes or goes. */
export class SocketMap extends Map<WebSocket, SocketAttachment> {
  onChange: (() => void) | null = null;
  /** A socket left the map, closed with `code` (1006 when no code is known). */
  onRemove: ((attachment: SocketAttachment, code: number) => void) | null = null;

  override set(ws: WebSocket, attachment: SocketAttachment): this {
    const added = !this.has(ws);
    super.set(ws, attachment);
    if (added) this.onChange?.();
    return this;
  }

  override delete(ws: WebSocket, code = 1006): boolean {
    const attachment = this.get(ws);
    const removed = super.delete(ws);
    if (removed) {
      this.onRemove?.(attachment!, code);
      this.onChange?.();
    }
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
  private readonly loop: ReportLoop;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
    private readonly sockets: SocketMap,
    private readonly room: () => RoomName | null,
    private readonly scheduleAlarm: (at: number) => void,
    /** The room's gateway subscribers: their uids, and how many gateways hold them. */
    private readonly remote: () => RemoteSummary,
  ) {
    this.config = safeDirectoryConfig(env);
    this.reporter = new RoomReporter(ctx.storage.sql, env, this.config);
    this.loop = new ReportLoop((force) => this.report(force), () => this.scheduleAlarm(Date.now() + RETRY_MS));
    sockets.onChange = () => this.touch();
  }

  /** Resolves once every change so far reached the directory (or was left to the alarm). */
  settled(): Promise<void> {
    return this.loop.settled();
  }

  /** Re-sends the room's whole state; a shard calls it on a room that went quiet. */
  resync(): Promise<void> {
    return this.loop.sync(true);
  }

  /** Closes the target's sockets with `code`; resolves with how many once the directory knows. */
  async close(target: SocketTarget, code: number, reason: string): Promise<number> {
    const sockets = "all" in target ? [...this.sockets.keys()]
      : this.ctx.getWebSockets("uid" in target ? `u:${target.uid}` : `c:${target.clientId}`);
    let closed = 0;
    for (const ws of sockets) {
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
    const nextExpiry = this.expire(now);
    await this.loop.sync();
    if (this.sockets.size === 0) return;
    this.scheduleAlarm(now + this.config.leaseMs);
    if (nextBeat !== null) this.scheduleAlarm(nextBeat);
    if (nextExpiry !== null) this.scheduleAlarm(nextExpiry);
  }

  /** Something the directory knows changed: report it (sockets, or gateway subscribers). */
  touch(): void {
    const now = Date.now();
    if (this.sockets.size > 0) {
      this.scheduleAlarm(now + this.config.leaseMs);
      if (this.config.heartbeatMs > 0) this.scheduleAlarm(now + this.config.heartbeatMs);
    }
    this.ctx.waitUntil(this.loop.sync());
  }

  private async report(force: boolean): Promise<boolean> {
    const room = this.room();
    if (!room) return true;
    return this.reporter.report(room, [...this.sockets.values()], this.remote(), force).catch((err: unknown) => {
      logEvent("room_error", { class: "RoomRoster", room, method: "report", error: errorText(err) }, "error");
      return false;
    });
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

  // Closes sockets whose token expired (4002: the client library gets a new token and resumes
  // with `since`); returns when the next token expires, or null.
  private expire(now: number): number | null {
    let next: number | null = null;
    for (const [ws, attachment] of this.sockets) {
      if (attachment.exp === undefined) continue;
      const at = attachment.exp * 1000;
      if (at <= now) this.closeSocket(ws, CLOSE_TOKEN_EXPIRED, "token expired: get a new token and reconnect");
      else next = Math.min(next ?? Infinity, at);
    }
    return next;
  }

  private closeSocket(ws: WebSocket, code: number, reason: string): void {
    this.sockets.delete(ws, code);
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }
}
