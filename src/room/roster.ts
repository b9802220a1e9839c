/** Who is in a room, as the rest of the deployment sees it: directory reports, heartbeat, closes. */
import type { RoomName } from "../contract/names";
import { CLOSE_HEARTBEAT, CLOSE_INTERNAL, CLOSE_TOKEN_EXPIRED } from "../contract/protocol";
import { safeDirectoryConfig, type DirectoryConfig } from "../directory/config";
import { Reporter } from "../directory/reporter";
import type { Listing } from "../directory/types";
import type { Env } from "../env";
import type { SocketAttachment, SocketTarget } from "./types";

/** A report a shard missed is retried this soon by the room's alarm. */
const RETRY_MS = 5_000;
/**
 * With webhooks on, a room with sockets wakes at least this often, so that connections lost in a
 * crash (no close handler ran) are reported closed. Without webhooks an idle room never wakes.
 */
const WEBHOOK_LEASE_MS = 600_000;

/** The room's socket map, counting sockets per uid; tells its listeners whenever a socket comes or goes. */
export class SocketMap extends Map<WebSocket, SocketAttachment> {
  onChange: ((attachment: SocketAttachment, added: boolean) => void) | null = null;
  /** A socket left the map, closed with `code` (1006 when no code is known). */
  onRemove: ((attachment: SocketAttachment, code: number) => void) | null = null;
  /** The last token client left (legacy connections may remain). */
  onLastTokenClient: (() => void) | null = null;
  /** Sockets that are not legacy: each took (or skipped) the uid's offline queue when it connected. */
  tokenClients = 0;
  readonly perUid = new Map<string, number>();

  override set(ws: WebSocket, attachment: SocketAttachment): this {
    const added = !this.has(ws);
    super.set(ws, attachment);
    if (added) {
      if (!attachment.legacy) this.tokenClients++;
      this.perUid.set(attachment.uid, (this.perUid.get(attachment.uid) ?? 0) + 1);
      this.onChange?.(attachment, true);
    }
    return this;
  }

  override delete(ws: WebSocket, code = 1006): boolean {
    const attachment = this.get(ws);
    if (!attachment || !super.delete(ws)) return false;
    this.onRemove?.(attachment, code);
    const left = (this.perUid.get(attachment.uid) ?? 1) - 1;
    if (left > 0) this.perUid.set(attachment.uid, left);
    else this.perUid.delete(attachment.uid);
    if (!attachment.legacy && --this.tokenClients === 0) this.onLastTokenClient?.();
    this.onChange?.(attachment, false);
    return true;
  }
}

/** The room's gateway subscribers, as the roster needs them. */
export interface RemoteView {
  gateways: number;
  uids: Set<string>;
}

/**
 * Keeps the directory told of what comes to a room (a socket, a gateway subscriber), answers a
 * shard that asks what it holds, closes silent sockets. Closes are not reported (a shard asks a
 * room it has not heard from before it lists it), unless webhooks need them (`reportCloses`):
 * a connection costs one report, and an idle room has no alarm.
 */
export class RoomRoster {
  private readonly config: DirectoryConfig;
  private readonly reporter: Reporter;
  /** The gateway subscribers when last looked at: a change reports what differs. */
  private remote: RemoteView;
  /** No token expires before then (null: not looked at since the room woke). */
  private nextExpiry: number | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
    private readonly sockets: SocketMap,
    private readonly room: () => RoomName | null,
    private readonly scheduleAlarm: (at: number) => void,
    private readonly remoteNow: () => RemoteView,
  ) {
    this.config = safeDirectoryConfig(env);
    this.remote = remoteNow();
    this.reporter = new Reporter(env, this.config, room, {
      own: () => ({ connections: this.sockets.size, gateways: this.remoteNow().gateways }),
      uid: (uid) => this.sockets.perUid.get(uid) ?? (this.remoteNow().uids.has(uid) ? 0 : null),
    }, () => this.scheduleAlarm(Date.now() + RETRY_MS));
    sockets.onChange = (attachment, added) => this.socketChanged(attachment, added);
  }

  /** Resolves once every change so far reached the directory (or was left to the alarm). */
  settled(): Promise<void> {
    return this.reporter.settled();
  }

  /** A shard learned from an `all` push that the room holds no socket: it no longer knows what it was told. */
  foundEmpty(): void {
    this.reporter.forget();
  }

  /** What the room holds, for a shard checking on it. */
  listing(): Listing {
    this.closeExpired(Date.now());
    this.reporter.forget();
    const remote = this.remoteNow();
    const uids: Record<string, number> = {};
    for (const uid of remote.uids) uids[uid] = 0;
    for (const [uid, n] of this.sockets.perUid) uids[uid] = n;
    return { connections: this.sockets.size, gateways: remote.gateways, uids };
  }

  /** The room's gateway subscribers changed: report what came (and, with webhooks, what went). */
  remoteChanged(): void {
    const before = this.remote;
    const now = (this.remote = this.remoteNow());
    const came = [...now.uids].filter((u) => !before.uids.has(u) && !this.sockets.perUid.has(u));
    const went = this.config.reportCloses ? [...before.uids].filter((u) => !now.uids.has(u) && !this.sockets.perUid.has(u)) : [];
    const gateways = now.gateways > before.gateways || (this.config.reportCloses && now.gateways !== before.gateways);
    if (gateways || came.length > 0 || went.length > 0) this.ctx.waitUntil(this.reporter.changed(gateways, [...came, ...went]));
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

  /** The room's alarm (set only for the heartbeat, a report a shard missed, and webhooks). */
  async alarm(now: number): Promise<void> {
    const nextBeat = this.sweep(now);
    this.closeExpired(now);
    await this.reporter.retry();
    if (nextBeat !== null) this.scheduleAlarm(nextBeat);
    if (this.config.reportCloses && this.sockets.size > 0) this.scheduleAlarm(now + WEBHOOK_LEASE_MS);
  }

  /**
   * Closes the sockets whose token expired (4002: the client library gets a new token and resumes
   * with `since`). Called whenever the room runs for anything (a push, a frame, a listing, a
   * presence check), so nothing reaches a socket past its token's `exp` and an idle socket costs no
   * alarm; one that nobody sends to is closed at the latest when its shard checks on the room (daily).
   */
  closeExpired(now: number): void {
    if ((this.nextExpiry ??= this.earliestExpiry()) > now) return;
    let next = Infinity;
    for (const [ws, attachment] of this.sockets) {
      if (attachment.exp === undefined) continue;
      const at = attachment.exp * 1000;
      if (at <= now) this.closeSocket(ws, CLOSE_TOKEN_EXPIRED, "token expired: get a new token and reconnect");
      else next = Math.min(next, at);
    }
    this.nextExpiry = next;
  }

  private socketChanged(attachment: SocketAttachment, added: boolean): void {
    const room = this.room();
    if (added && attachment.exp !== undefined && this.nextExpiry !== null) this.nextExpiry = Math.min(this.nextExpiry, attachment.exp * 1000);
    if (added && this.config.heartbeatMs > 0) this.scheduleAlarm(Date.now() + this.config.heartbeatMs);
    if (added && this.config.reportCloses) this.scheduleAlarm(Date.now() + WEBHOOK_LEASE_MS);
    if (!room || (!added && !this.config.reportCloses)) return;
    // A uid room's count is its entry; a group room reports its uids, and its entry when it fills or empties.
    const isUidRoom = room.startsWith("uid:");
    const entry = isUidRoom || this.sockets.size === (added ? 1 : 0);
    const uid = isUidRoom ? [] : [attachment.uid];
    this.ctx.waitUntil(this.reporter.changed(entry, uid));
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

  private earliestExpiry(): number {
    let min = Infinity;
    for (const attachment of this.sockets.values()) if (attachment.exp !== undefined) min = Math.min(min, attachment.exp * 1000);
    return min;
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
