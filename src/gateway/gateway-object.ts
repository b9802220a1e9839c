import { DurableObject } from "cloudflare:workers";
import { ApiError, errorBody } from "../contract/errors";
import { roomName, type GatewayName, type RoomName } from "../contract/names";
import { CLOSE_INTERNAL, type OutboundMessage } from "../contract/protocol";
import { safeDirectoryConfig } from "../directory/config";
import { Reporter } from "../directory/reporter";
import type { Listing } from "../directory/types";
import { roomStub, safeLimits, type Env, type Limits } from "../env";
import type { RoomPushItem, RoomPushResult, SocketTarget } from "../room/types";
import type { GatewayApi } from "../rpc";
import { errorText, logEvent } from "../util/log";
import { meterEntry, meterObject } from "../util/meter";
import { Connections } from "./connections";
import { ClientOperations } from "./gatewayworker/operations";
import { admitFrame, admitUpgrade, groupsOf, refuseFrame, type Admitted, type FrameGate } from "./admission";
import { announceMember, deliverDirect, deliverToRoom, HANDLERS } from "./fan-out";
import type { GatewayHost } from "./protocol";
import { activityTimeoutS, PUSHER_PING, PUSHER_PONG } from "./pusher/handler";
import { sweepPusher } from "./pusher/heartbeat";
import { OpeningFrames } from "./opening";
import { RoomLinks } from "./room-links";
import { SeenIds } from "./seen-ids";
import { Subscriptions } from "./subscriptions";
import { FrameBudget } from "../room/frame-budget";
import { Webhooks } from "../webhooks/webhooks";
import type { ClientInfo, GatewayDeliverResult, GatewayItem, MemberEvent, OpResult, TrackReplay } from "./types";

/** A report a shard missed is retried this soon by the gateway's alarm. */
const RETRY_MS = 5_000;

/**
 * One gateway shard (`gw:<n>`): holds multiplexed sockets (Pusher Channels, GatewayWorker mode)
 * on the Hibernation API. Each connection subscribes to rooms; a room hands this gateway its
 * messages in one RPC, and the gateway sends them to its subscribers in their protocol.
 */
export class GatewayObject extends DurableObject<Env> implements GatewayApi {
  private readonly connections: Connections;
  /** What protocol handlers may use; not part of the RPC surface. */
  private readonly host: GatewayHost;
  private readonly limits: Limits;
  private readonly subs: Subscriptions;
  private readonly reporter: Reporter;
  private readonly reportCloses: boolean;
  private readonly name: GatewayName;
  private readonly ops: ClientOperations;
  /** When each connection last sent a frame (the runtime's auto-answered pings aside). */
  private readonly heard = new WeakMap<WebSocket, number>();
  private readonly pinged = new Map<WebSocket, number>();
  private alarmAt: number | null = null;
  private readonly hooks: Webhooks;
  private readonly gate: FrameGate;
  /** Backend ids of the pushes addressed to this gateway (clientId, all): a repeat is not sent again. */
  private readonly seen: SeenIds;
  /** A new connection's first frames wait for its 101 (workerd keeps less per socket then). */
  private readonly opening = new OpeningFrames<WebSocket>((ws, text) => this.send(ws, text));

  constructor(ctx: DurableObjectState, env: Env) {
    // `npm run cost` counts this object's rows and requests; otherwise `env` is left as it is.
    super(ctx, (env = meterObject(ctx, env, "GatewayObject")));
    this.limits = safeLimits(env);
    // Pusher's ping is answered by the runtime without waking the gateway.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PUSHER_PING, PUSHER_PONG));
    this.name = (ctx.id.name ?? "gw:0") as GatewayName;
    this.connections = new Connections(ctx.getWebSockets());
    this.host = {
      env,
      connections: this.connections,
      subscribe: (ws, sub, replay) => this.subs.subscribe(ws, sub, replay),
      unsubscribe: (ws, room) => this.subs.unsubscribe(ws, room),
      bind: async (ws, uid, userData) => {
        const before = this.connections.get(ws)?.uid ?? null;
        await this.subs.bind(ws, uid, userData);
        this.reportUids([uid, ...(this.reportCloses ? [before] : [])], false);
      },
      clientEvent: (ws, room, message) => this.clientEvent(ws, room, message),
      tellBackend: (ws, data, channel) => this.tellBackend(ws, data, channel),
      send: (ws, text) => this.send(ws, text),
      refuse: (ws, attachment, code, message) => refuseFrame(this.gate, ws, attachment, code, message),
      closeSocket: (ws, code, reason) => this.closeSocket(ws, code, reason),
    };
    this.gate = {
      budget: new FrameBudget({ frames: this.limits.clientFramesPer10s, bytes: this.limits.clientBytesPer10s }),
      maxFrameBytes: this.limits.maxFrameBytes,
      send: this.host.send,
      closeSocket: this.host.closeSocket,
    };
    const links = new RoomLinks(ctx.storage.sql, env, this.name);
    this.seen = new SeenIds(ctx.storage.sql);
    this.subs = new Subscriptions(this.connections, links, (work) => ctx.waitUntil(work), () => this.host);
    this.ops = new ClientOperations(ctx.storage.sql, this.host, (id) => ctx.getWebSockets(`c:${id}`));
    const directory = safeDirectoryConfig(env);
    this.reportCloses = directory.reportCloses;
    // The directory hears of connections that come (closes it learns by asking: see Directory).
    this.reporter = new Reporter(env, directory, () => this.name, {
      own: () => ({ connections: this.connections.size, gateways: 0 }),
      uid: (uid) => this.connections.ofUid(uid).length || null,
    }, () => this.scheduleAlarm(Date.now() + RETRY_MS));
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
    this.hooks = new Webhooks(ctx, env, (at) => this.scheduleAlarm(at), () => [...this.connections.entries()].map(([, a]) => a.id));
    // Rooms that still list this gateway after it lost its sockets (a restart) forget it.
    ctx.waitUntil(links.reconcile(new Set(this.connections.rooms())));
  }

  /** Accepts an upgrade the Worker forwarded (it checked the credentials). */
  async fetch(request: Request): Promise<Response> {
    try {
      return await this.accept(request);
    } catch (err) {
      const apiError = err instanceof ApiError ? err : new ApiError(500, "internal", "gateway failed to accept");
      if (!(err instanceof ApiError)) this.logError("fetch", err);
      return Response.json(errorBody(apiError), { status: apiError.status });
    }
  }

  deliver(room: RoomName, items: GatewayItem[]): GatewayDeliverResult {
    const delivered = deliverToRoom(this.connections, room, items, this.host.send, (id, r) => this.subs.held(id, r));
    return { delivered, subscribed: this.connections.inRoom(room).size > 0 };
  }

  deliverTo(items: RoomPushItem[]): RoomPushResult[] {
    return this.seen.deliverOnce(items, (item) => `${item.clientId}|${item.message.id}`,
      (item) => this.direct(item, this.ctx.getWebSockets(`c:${item.clientId}`)));
  }

  /** `all` pushes, from the directory: every connection that has a frame for them. */
  push(_name: GatewayName, items: RoomPushItem[]): RoomPushResult[] {
    return this.seen.deliverOnce(items, (item) => `all|${item.message.id}`,
      (item) => this.direct(item, [...this.connections.entries()].map(([ws]) => ws)));
  }

  announce(event: MemberEvent): void {
    announceMember(this.connections, event, this.host.send);
  }

  async close(target: SocketTarget, code: number, reason: string): Promise<number> {
    const sockets = "all" in target ? [...this.connections.entries()].map(([ws]) => ws)
      : "uid" in target ? this.connections.ofUid(target.uid) : this.ctx.getWebSockets(`c:${target.clientId}`);
    let closed = 0;
    for (const ws of sockets) {
      const attachment = this.connections.get(ws);
      if (!attachment) continue;
      const frame = HANDLERS[attachment.protocol].closeFrame?.(code, reason);
      if (frame) this.send(ws, frame);
      this.closeSocket(ws, code, reason);
      closed++;
    }
    await this.reporter.settled();
    return closed;
  }

  /** What this gateway holds, for a directory shard checking on it. */
  listing(): Listing {
    this.reporter.forget();
    const uids: Record<string, number> = {};
    for (const [, a] of this.connections.entries()) if (a.uid !== null) uids[a.uid] = (uids[a.uid] ?? 0) + 1;
    return { connections: this.connections.size, gateways: 0, uids };
  }

  // ---- GatewayWorker mode: the backend's operations on its connections ----

  clientInfo(clientId: string): ClientInfo {
    return this.ops.info(clientId);
  }
  bindUid(clientId: string, uid: string): Promise<OpResult> {
    return this.ops.bindUid(clientId, uid);
  }
  unbindUid(clientId: string): Promise<OpResult> {
    return this.ops.unbindUid(clientId);
  }
  joinGroup(clientId: string, group: string): Promise<OpResult> {
    return this.ops.joinGroup(clientId, group);
  }
  leaveGroup(clientId: string, group: string): Promise<OpResult> {
    return this.ops.leaveGroup(clientId, group);
  }
  setSession(clientId: string, session: Record<string, unknown>, merge: boolean): Promise<OpResult> {
    return this.ops.setSession(clientId, session, merge);
  }
  closeClient(clientId: string, message?: string): Promise<OpResult> {
    return this.ops.closeClient(clientId, message);
  }
  clients(room: RoomName | null): { clientIds: string[]; sessions: Record<string, Record<string, unknown> | null> } {
    return this.ops.clients(room);
  }
  ungroup(room: RoomName, uid?: string): Promise<number> {
    return this.ops.ungroup(room, uid);
  }
  notify(room: RoomName, frame: string): number {
    return this.ops.notify(room, frame);
  }

  // ---- runtime entry points ----

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    meterEntry(this.env, "GatewayObject", "webSocketMessage");
    try {
      const attachment = this.connections.get(ws);
      if (!attachment) return;
      const now = Date.now();
      this.heard.set(ws, now);
      const text = admitFrame(this.gate, ws, attachment, message, now);
      if (text === null) return;
      await HANDLERS[attachment.protocol].message(this.host, ws, attachment, text);
    } catch (err) {
      this.logError("webSocketMessage", err);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    meterEntry(this.env, "GatewayObject", "webSocketClose");
    this.forget(ws, code);
    try {
      // workerd throws when echoing 1005/1006/1015, which may not be sent on the wire.
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    meterEntry(this.env, "GatewayObject", "webSocketError");
    this.logError("webSocketError", error);
    this.forget(ws, 1006);
  }

  async alarm(): Promise<void> {
    meterEntry(this.env, "GatewayObject", "alarm");
    try {
      this.alarmAt = null;
      const now = Date.now();
      const next = sweepPusher({
        connections: this.connections,
        lastSeen: (ws) => Math.max(this.heard.get(ws) ?? 0, this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0,
          this.connections.get(ws)?.connectedAt ?? 0),
        send: this.host.send,
        close: this.host.closeSocket,
      }, this.pinged, now, activityTimeoutS(this.env) * 1000);
      if (next !== null) this.scheduleAlarm(next);
      await this.reporter.retry();
      await this.hooks.alarm();
    } catch (err) {
      this.logError("alarm", err);
    }
  }

  // ---- GatewayHost: what protocol handlers use ----

  private async clientEvent(ws: WebSocket, room: RoomName, message: OutboundMessage): Promise<void> {
    const attachment = this.connections.get(ws);
    if (attachment) await roomStub(this.env, room).clientEvent(room, message, attachment.id);
  }

  private send(ws: WebSocket, text: string): boolean {
    if (this.opening.queue(ws, text)) return true;
    if (ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(text);
      return true;
    } catch (err) {
      // One broken socket never stops a fan-out: close it, the others go on.
      this.logError("send", err);
      this.closeSocket(ws, CLOSE_INTERNAL, "send failed");
      return false;
    }
  }

  private closeSocket(ws: WebSocket, code: number, reason: string): void {
    this.pinged.delete(ws);
    // Frames held for the 101 go before the close, as they would have without the hold.
    this.opening.flush(ws);
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
    this.forget(ws, code);
  }

  private async accept(request: Request): Promise<Response> {
    const admitted = admitUpgrade(request.headers, this.name, this.connections.size, this.limits);
    const { attachment } = admitted;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [`c:${attachment.id}`]);
    this.opening.hold(server);
    try {
      await this.open(server, admitted);
    } catch (err) {
      this.opening.drop(server);
      throw err;
    }
    this.opening.release(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A new connection's attachment, first frames, uid and groups; the 101 waits for the directory. */
  private async open(server: WebSocket, { attachment, groups, autojoin, uid, replay }: Admitted): Promise<void> {
    const protocol = attachment.protocol;
    server.serializeAttachment(attachment);
    this.connections.add(server, attachment);
    HANDLERS[protocol].opened(this.host, server, attachment);
    if (protocol === "pusher") this.scheduleAlarm(Date.now() + activityTimeoutS(this.env) * 1000);
    await this.join(server, uid, autojoin ? groups : [], replay);
    const joined = this.connections.get(server);
    if (joined) this.hooks.opened({ client_id: joined.id, uid: joined.uid, group: null, protocol, groups: groupsOf(joined) });
    this.reportUids([joined?.uid ?? null], true);
    // The 101 waits for the directory, so an `all` push sent after connect reaches this socket.
    await this.reporter.settled();
  }

  // A token connection starts bound to its uid and joined to its groups.
  private async join(ws: WebSocket, uid: string | null, groups: string[], replay?: TrackReplay): Promise<void> {
    try {
      if (uid) await this.subs.bind(ws, uid, undefined, replay);
      await Promise.all(groups.map((g) => this.subs.subscribe(ws, { room: roomName("group", g) })));
    } catch (err) {
      this.closeSocket(ws, CLOSE_INTERNAL, "a room did not answer");
      this.logError("join", err);
      throw new ApiError(503, "unavailable", "a room did not answer; retry");
    }
  }

  /** Drops a connection and tells its rooms; the directory learns of it after. */
  private forget(ws: WebSocket, code: number): void {
    this.opening.drop(ws);
    const attachment = this.connections.remove(ws);
    if (!attachment) return;
    this.hooks.closed(attachment.id, code, { uid: attachment.uid, groups: groupsOf(attachment) });
    this.ops.drop(attachment.id);
    this.subs.leaveAll(attachment);
    if (this.reportCloses) this.reportUids([attachment.uid], true);
  }

  /** Tells the directory of these uids' connections here (and of the gateway's count with `entry`). */
  private reportUids(uids: (string | null)[], entry: boolean): void {
    this.ctx.waitUntil(this.reporter.changed(entry, uids.filter((u): u is string => u !== null)));
  }

  private tellBackend(ws: WebSocket, data: unknown, channel?: { group: string; event: string }): void {
    const attachment = this.connections.get(ws);
    if (!attachment) return;
    if (!channel) return this.hooks.message({ client_id: attachment.id, uid: attachment.uid, group: null, data });
    const member = this.connections.subscription(ws, roomName("group", channel.group))?.member;
    this.hooks.message({ client_id: attachment.id, uid: member?.id ?? attachment.uid, group: channel.group, data, event: channel.event });
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  private direct(item: RoomPushItem, sockets: Iterable<WebSocket>): number {
    return deliverDirect(this.connections, item, sockets, this.host.send);
  }

  private logError(method: string, err: unknown): void {
    logEvent("gateway_error", { class: "GatewayObject", gateway: this.name, method, error: errorText(err) }, "error");
  }
}
