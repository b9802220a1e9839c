/**
 * A room's messages: pushes, client publishes and gateway client events fanned out to the room's
 * own sockets and its gateways (pushes with a ttl and publishes logged, one row each, for replay;
 * client events and clientId pushes live only), and the replay a connection is owed when it
 * arrives. RoomObject decides when; this decides what goes where.
 */
import type { RoomName } from "../contract/names";
import { CLOSE_INTERNAL, envelope, type OutboundMessage } from "../contract/protocol";
import type { GatewayItem } from "../gateway/types";
import { settledWithin } from "../util/async";
import { fanOut } from "./fan-out";
import type { GatewayLink } from "./gateway-link";
import type { SocketGuard } from "./guard";
import { QUEUE, type LogRow, type RoomLog } from "./log";
import type { SocketMap } from "./roster";
import { DEFAULT_TTL_S, type RoomPushItem, type RoomPushResult, type SocketAttachment } from "./types";

/** How long a push's log writes wait for slow gateways before they are stored anyway. */
const HOLD_MAX_MS = 50;

export interface MessageDeps {
  ctx: DurableObjectState;
  sockets: SocketMap;
  log: RoomLog;
  guard: SocketGuard;
  gateways: GatewayLink;
  /** The room's name once known (a room learns it from its first request). */
  name(): RoomName | null;
  report(method: string, err: unknown): void;
}

export class RoomMessages {
  constructor(private readonly deps: MessageDeps) {}

  /** Delivers `items` in order to the room's sockets, then to its gateways; logs what must be kept. */
  async push(room: RoomName, items: RoomPushItem[]): Promise<RoomPushResult[]> {
    const now = Date.now();
    const forward: GatewayItem[] = [];
    const owners: number[] = [];
    const writes: (() => void)[] = [];
    const keys = new Set<string>();
    const results = items.map((item, i) => this.pushOne(item, now, (g) => (forward.push(g), owners.push(i)), writes, keys));
    // The gateway RPCs go out before the log is written (the output gate holds back what a Durable
    // Object sends after a write until it is on disk), and the writes reach storage after they answered.
    const reached = this.deps.gateways.forward(room, forward);
    const counts = await this.writeAfter(reached, () => writes.forEach((write) => write()));
    counts.forEach((n, i) => (results[owners[i]].delivered += n));
    return results;
  }

  /** A gateway connection's message (a Pusher client event): live to all but `from`, not logged. */
  async clientEvent(room: RoomName, message: OutboundMessage, from: string): Promise<number> {
    const seq = this.deps.log.nextSeq();
    const local = this.fanOut(this.deps.sockets.keys(), seq, message);
    // Sent before the seq is saved: a write would hold the RPCs back until it is on disk.
    const reached = this.deps.gateways.forward(room, [{ seq, message, exclude: [from] }]);
    const [remote] = await this.writeAfter(reached, () => undefined);
    return local + remote;
  }

  /**
   * Makes `writes` (and the seq) while the gateways take `reached`, storing them once they
   * answered: the room's answer still waits for the commit, but the gateways no longer do
   * (workerd commits on its next turn, before the RPC reaches them; see RoomLog.hold). A slow
   * gateway holds them at most HOLD_MAX_MS: what was sent must not stay unstored for long.
   */
  private async writeAfter<T>(reached: Promise<T>, writes: () => void): Promise<T> {
    const { log, gateways } = this.deps;
    if (gateways.size === 0) {
      // Nobody to wait for (most rooms): no hold, no timer on the push path.
      writes();
      log.saveSeq();
      return reached;
    }
    log.hold();
    try {
      writes();
      log.saveSeq();
      await settledWithin(reached, HOLD_MAX_MS);
    } finally {
      log.release();
    }
    return reached;
  }

  /** A client's publish in a group room: to every socket here and the gateways, logged for replay. */
  publish(ws: WebSocket, attachment: SocketAttachment, data: unknown, echo: boolean): void {
    const now = Date.now();
    const dataJson = JSON.stringify({ from: attachment.uid, data: data ?? null });
    const published: OutboundMessage = { id: crypto.randomUUID(), dataJson, raw: dataJson, ts: now };
    const seq = this.deps.log.nextSeq();
    this.fanOut(this.deps.sockets.keys(), seq, published, undefined, echo ? undefined : ws);
    this.deps.ctx.waitUntil(this.deps.gateways.forward(this.deps.name()!, [{ seq, message: published }]));
    this.deps.log.append(seq, published, now, { key: null, expires: now + DEFAULT_TTL_S.group * 1000, queue: QUEUE.none });
  }

  /** Sends a connection what it is owed on arrival, synchronously (no push slips in between). */
  replay(ws: WebSocket, attachment: SocketAttachment, room: RoomName, since: number | null): void {
    const now = Date.now();
    for (const row of this.owed(room, since)) {
      const text = attachment.format === "raw" ? row.message.raw : envelope(row.seq, row.message);
      ws.send(text);
      // Counted but never cut short (that would lose pending rows): the next live message judges it.
      this.deps.guard.replayed(ws, text.length, now);
    }
  }

  /** What a connection resuming at `since` is owed: the rows after it, or a uid room's offline queue. */
  owed(room: RoomName, since: number | null): LogRow[] {
    const { log } = this.deps;
    const now = Date.now();
    const isUidRoom = room.startsWith("uid:");
    if (since !== null) {
      const rows = log.since(since, now);
      if (isUidRoom) log.clearPending();
      return rows;
    }
    return isUidRoom ? log.takePending(now) : [];
  }

  /** One message of a push; its log row is written later (`writes`), `keys` holds the ids this call took. */
  private pushOne(
    item: RoomPushItem, now: number, toGateways: (item: GatewayItem) => void, writes: (() => void)[], keys: Set<string>,
  ): RoomPushResult {
    const { log, ctx, sockets } = this.deps;
    const key = item.dedupe ? (item.clientId ? `${item.clientId}|${item.message.id}` : item.message.id) : null;
    if (key !== null && (keys.has(key) || log.seenBefore(key, now))) return { delivered: 0, queued: false, duplicate: true };
    if (key !== null) keys.add(key);
    const seq = log.nextSeq();
    const exclude = item.exclude && item.exclude.length > 0 ? new Set(item.exclude) : undefined;
    const targets = item.clientId ? ctx.getWebSockets(`c:${item.clientId}`) : sockets.keys();
    const delivered = this.fanOut(targets, seq, item.message, exclude);
    // `all` reaches gateways from the directory; a clientId push is addressed to one of our sockets.
    if (!item.clientId && !item.broadcast) toGateways({ seq, message: item.message, exclude: item.exclude });
    const isUidRoom = this.deps.name()?.startsWith("uid:") ?? false;
    const ttl = item.clientId ? 0 : (item.ttl ?? DEFAULT_TTL_S[isUidRoom ? "uid" : "group"]);
    // One row: the message, which is also its id's record; a live-only message with an id, the record alone.
    if (ttl > 0 || key !== null) {
      const opts = { key, expires: ttl > 0 ? now + ttl * 1000 : 0, queue: this.queueState(isUidRoom) };
      writes.push(() => log.append(seq, item.message, now, opts));
    }
    return { delivered, queued: ttl > 0, duplicate: false };
  }

  /** How a uid room's offline queue sees a message logged now. */
  private queueState(isUidRoom: boolean): (typeof QUEUE)[keyof typeof QUEUE] {
    const { sockets, gateways } = this.deps;
    if (!isUidRoom) return QUEUE.none;
    if (sockets.size === 0 && gateways.size === 0) return QUEUE.queued;
    return sockets.tokenClients > 0 ? QUEUE.taken : QUEUE.none;
  }

  /** Fans out; a socket whose send throws is closed with 1011 and the others still get it. */
  private fanOut(targets: Iterable<WebSocket>, seq: number, message: OutboundMessage, exclude?: Set<string>, skip?: WebSocket): number {
    const now = Date.now();
    return fanOut(this.deps.sockets, targets, seq, message, {
      exclude, skip, onBroken: (ws, err) => this.dropBroken(ws, err),
      onSent: (ws, length) => this.deps.guard.sent(ws, length, now),
    });
  }

  private dropBroken(ws: WebSocket, err: unknown): void {
    this.deps.report("fanOut", err);
    this.deps.sockets.delete(ws, CLOSE_INTERNAL);
    try {
      ws.close(CLOSE_INTERNAL, "send failed");
    } catch {
      // already gone
    }
  }
}
