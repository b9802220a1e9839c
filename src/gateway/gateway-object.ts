import { DurableObject } from "cloudflare:workers";
import { ApiError, errorBody } from "../contract/errors";
import { newGatewayClientId, roomName, type GatewayName, type RoomName } from "../contract/names";
import { CLOSE_INTERNAL, CLOSE_TOO_BIG, errorFrame, type OutboundMessage } from "../contract/protocol";
import { safeDirectoryConfig } from "../directory/config";
import { ReportLoop } from "../directory/report-loop";
import { RoomReporter } from "../directory/reporter";
import { roomStub, safeLimits, type Env, type Limits } from "../env";
import type { RoomPushItem, RoomPushResult, SocketTarget } from "../room/types";
import type { GatewayApi } from "../rpc";
import { errorText, logEvent } from "../util/log";
import { utf8Length } from "../util/text";
import { Connections } from "./connections";
import { gatewayWorkerHandler } from "./gatewayworker/handler";
import { ClientOperations } from "./gatewayworker/operations";
import type { GatewayHost, ProtocolHandler } from "./protocol";
import { pusherHandler, PUSHER_PING, PUSHER_PONG } from "./pusher/handler";
import { RoomLinks } from "./room-links";
import {
  GATEWAY_HEADER,
  type ClientInfo, type OpResult, type GatewayAttachment, type GatewayDeliverResult, type GatewayItem, type GatewayProtocol, type MemberEvent,
  type Subscription, type TrackChange, type TrackReplay, type TrackResult,
} from "./types";

const HANDLERS: Record<GatewayProtocol, ProtocolHandler> = { pusher: pusherHandler, gateway: gatewayWorkerHandler };
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
  private readonly links: RoomLinks;
  private readonly reporter: RoomReporter;
  private readonly loop: ReportLoop;
  private readonly name: GatewayName;
  private readonly ops: ClientOperations;
  /** Live frames held per `<clientId> <room>` while that subscription's replay is on its way. */
  private readonly held = new Map<string, { seq: number; frame: string }[]>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.limits = safeLimits(env);
    // Pusher's ping is answered by the runtime without waking the gateway.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PUSHER_PING, PUSHER_PONG));
    this.name = (ctx.id.name ?? "gw:0") as GatewayName;
    this.connections = new Connections(ctx.getWebSockets());
    this.host = {
      env,
      connections: this.connections,
      subscribe: (ws, sub, replay) => this.subscribe(ws, sub, replay),
      unsubscribe: (ws, room) => this.unsubscribe(ws, room),
      bind: (ws, uid, userData) => this.bind(ws, uid, userData),
      clientEvent: (ws, room, message) => this.clientEvent(ws, room, message),
      send: (ws, text) => this.send(ws, text),
      closeSocket: (ws, code, reason) => this.closeSocket(ws, code, reason),
    };
    this.links = new RoomLinks(ctx.storage.sql, env, this.name);
    this.ops = new ClientOperations(ctx.storage.sql, this.host, (id) => ctx.getWebSockets(`c:${id}`));
    this.reporter = new RoomReporter(ctx.storage.sql, env, safeDirectoryConfig(env));
    this.loop = new ReportLoop((force) => this.reportToDirectory(force), () => void ctx.storage.setAlarm(Date.now() + RETRY_MS));
    // Rooms that still list this gateway after it lost its sockets (a restart) forget it.
    ctx.waitUntil(this.links.reconcile(new Set(this.connections.rooms())));
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
    const subscribers = this.connections.inRoom(room);
    const delivered = items.map((item) => {
      const exclude = item.exclude && item.exclude.length > 0 ? new Set(item.exclude) : null;
      let n = 0;
      for (const [ws, sub] of subscribers) {
        const attachment = this.connections.get(ws)!;
        if (exclude?.has(attachment.id)) continue;
        const frame = HANDLERS[attachment.protocol].frame(attachment, sub, item);
        if (frame === null) continue;
        const held = this.held.get(`${attachment.id} ${room}`);
        if (held) held.push({ seq: item.seq, frame });
        if (held || this.send(ws, frame)) n++;
      }
      return n;
    });
    return { delivered, subscribed: subscribers.size > 0 };
  }

  deliverTo(items: RoomPushItem[]): number[] {
    return items.map((item) => this.direct(item, this.ctx.getWebSockets(`c:${item.clientId}`)));
  }

  /** `all` pushes, from the directory: every connection that has a frame for them. */
  push(_name: GatewayName, items: RoomPushItem[]): RoomPushResult[] {
    return items.map((item) => ({
      delivered: this.direct(item, [...this.connections.entries()].map(([ws]) => ws)),
      queued: false,
      duplicate: false,
    }));
  }

  announce(event: MemberEvent): void {
    for (const [ws, sub] of this.connections.inRoom(event.room)) {
      const attachment = this.connections.get(ws)!;
      // A member's own connections are not told of it (Pusher's rule).
      if (sub.member?.id === event.member.id) continue;
      const frame = HANDLERS[attachment.protocol].memberFrame?.(sub, event.added, event.member) ?? null;
      if (frame !== null) this.send(ws, frame);
    }
  }

  async close(target: SocketTarget, code: number, reason: string): Promise<number> {
    const sockets = "all" in target ? [...this.connections.entries()].map(([ws]) => ws)
      : "uid" in target ? this.connections.ofUid(target.uid) : this.ctx.getWebSockets(`c:${target.clientId}`);
    let closed = 0;
    for (const ws of sockets) {
      if (!this.connections.get(ws)) continue;
      this.closeSocket(ws, code, reason);
      closed++;
    }
    await this.loop.settled();
    return closed;
  }

  resync(): Promise<void> {
    return this.loop.sync(true);
  }

  // ---- GatewayWorker mode: the backend's operations on its connections ----

  clientInfo(clientId: string): ClientInfo {
    return this.ops.info(clientId);
  }
  bindUid(clientId: string, uid: string): Promise<OpResult> {
    return this.ops.bindUid(clientId, uid);
  }
  unbindUid(clientId: string, uid: string): Promise<OpResult> {
    return this.ops.unbindUid(clientId, uid);
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
  ungroup(room: RoomName): Promise<number> {
    return this.ops.ungroup(room);
  }
  notify(room: RoomName, frame: string): number {
    return this.ops.notify(room, frame);
  }
  leaveRoom(room: RoomName, uid: string): Promise<number> {
    return this.ops.ungroup(room, uid);
  }

  // ---- runtime entry points ----

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      const attachment = this.connections.get(ws);
      if (!attachment) return;
      const size = typeof message === "string" ? utf8Length(message) : message.byteLength;
      if (size > this.limits.maxFrameBytes) {
        return this.closeSocket(ws, CLOSE_TOO_BIG, `frame over MAX_FRAME_BYTES (${this.limits.maxFrameBytes})`);
      }
      if (typeof message !== "string") return void this.send(ws, errorFrame("binary_not_supported", "send text frames"));
      await HANDLERS[attachment.protocol].message(this.host, ws, attachment, message);
    } catch (err) {
      this.logError("webSocketMessage", err);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.forget(ws);
    try {
      // workerd throws when echoing 1005/1006/1015, which may not be sent on the wire.
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.logError("webSocketError", error);
    this.forget(ws);
  }

  async alarm(): Promise<void> {
    try {
      await this.loop.sync();
    } catch (err) {
      this.logError("alarm", err);
    }
  }

  // ---- GatewayHost: what protocol handlers use ----

  // With `replay`, live messages of the room are held until the room's rows went out first.
  private async subscribe(ws: WebSocket, sub: Subscription, replay?: TrackReplay): Promise<TrackResult> {
    const attachment = this.connections.get(ws);
    if (!attachment) throw new Error("connection is gone");
    this.connections.subscribe(ws, sub);
    const key = `${attachment.id} ${sub.room}`;
    if (replay) this.held.set(key, []);
    try {
      const result = await this.links.track(sub.room, [this.change(attachment, sub, true)], true, replay);
      HANDLERS[attachment.protocol].subscribed?.(this.host, ws, attachment, sub, result);
      if (replay) this.flush(ws, attachment, sub, result.rows ?? [], this.held.get(key)!);
      return result;
    } catch (err) {
      this.connections.unsubscribe(ws, sub.room);
      throw err;
    } finally {
      this.held.delete(key);
    }
  }

  /** A replay's rows, then what arrived live meanwhile and is not among them. */
  private flush(ws: WebSocket, attachment: GatewayAttachment, sub: Subscription, rows: TrackResult["rows"] & {}, held: { seq: number; frame: string }[]): void {
    const replayed = new Set<number>();
    for (const row of rows) {
      replayed.add(row.seq);
      const frame = HANDLERS[attachment.protocol].frame(attachment, sub, row);
      if (frame !== null) this.send(ws, frame);
    }
    for (const live of held) if (!replayed.has(live.seq)) this.send(ws, live.frame);
  }

  private async unsubscribe(ws: WebSocket, room: RoomName): Promise<boolean> {
    const attachment = this.connections.get(ws);
    const sub = attachment && this.connections.unsubscribe(ws, room);
    if (!attachment || !sub) return false;
    await this.links.leave(room, [this.change(attachment, sub, false)], this.connections.inRoom(room).size > 0);
    HANDLERS[attachment.protocol].unsubscribed?.(this.host, ws, attachment, room);
    return true;
  }

  private async bind(ws: WebSocket, uid: string | null, userData?: string, replay?: TrackReplay): Promise<void> {
    const attachment = this.connections.get(ws);
    if (!attachment) return;
    if (attachment.uid !== null && attachment.uid !== uid) await this.unsubscribe(ws, roomName("uid", attachment.uid));
    this.connections.setUid(ws, uid, userData);
    if (uid !== null) await this.subscribe(ws, { room: roomName("uid", uid) }, replay);
    // The rooms it is in learn its new uid (presence members keep their own user_id).
    const bound = this.connections.get(ws)!;
    await Promise.all(bound.subs.filter((s) => !s.member && !s.room.startsWith("uid:")).map((s) =>
      this.links.track(s.room, [this.change(bound, s, true)], true)));
    this.ctx.waitUntil(this.loop.sync());
  }

  private async clientEvent(ws: WebSocket, room: RoomName, message: OutboundMessage): Promise<void> {
    const attachment = this.connections.get(ws);
    if (attachment) await roomStub(this.env, room).clientEvent(room, message, attachment.id);
  }

  private send(ws: WebSocket, text: string): boolean {
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
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
    this.forget(ws);
  }

  private async accept(request: Request): Promise<Response> {
    const headers = request.headers;
    const protocol = headers.get(GATEWAY_HEADER.protocol) as GatewayProtocol | null;
    if (protocol !== "pusher" && protocol !== "gateway") throw new ApiError(400, "bad_request", "not a gateway upgrade");
    if (this.connections.size >= this.limits.maxSocketsPerRoom) {
      throw new ApiError(503, "room_full", `gateway ${this.name} holds MAX_SOCKETS_PER_ROOM (${this.limits.maxSocketsPerRoom}) sockets`);
    }
    const shard = Number(this.name.slice(3));
    const groups = parseGroups(headers.get(GATEWAY_HEADER.groups));
    const attachment: GatewayAttachment = {
      id: newGatewayClientId(shard, crypto.getRandomValues(new Uint8Array(16))),
      protocol,
      uid: null,
      format: headers.get(GATEWAY_HEADER.format) === "envelope" ? "envelope" : "raw",
      subs: [],
      connectedAt: Date.now(),
    };
    if (protocol === "gateway" && groups.length > 0) attachment.grants = groups;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [`c:${attachment.id}`]);
    server.serializeAttachment(attachment);
    this.connections.add(server, attachment);
    HANDLERS[protocol].opened(this.host, server, attachment);
    // Envelope connections (the client library) resume their uid room like a `/ws` socket.
    const since = headers.get(GATEWAY_HEADER.since);
    const replay = attachment.format === "envelope" ? { since: since === null ? null : Number(since) } : undefined;
    await this.join(server, headers.get(GATEWAY_HEADER.uid), groups, replay);
    this.ctx.waitUntil(this.loop.sync());
    // The 101 waits for the directory, so an `all` push sent after connect reaches this socket.
    await this.loop.settled();
    return new Response(null, { status: 101, webSocket: client });
  }

  // A token connection starts bound to its uid and joined to its groups.
  private async join(ws: WebSocket, uid: string | null, groups: string[], replay?: TrackReplay): Promise<void> {
    try {
      if (uid) await this.bind(ws, uid, undefined, replay);
      await Promise.all(groups.map((g) => this.subscribe(ws, { room: roomName("group", g) })));
    } catch (err) {
      this.closeSocket(ws, CLOSE_INTERNAL, "a room did not answer");
      this.logError("join", err);
      throw new ApiError(503, "unavailable", "a room did not answer; retry");
    }
  }

  /** Drops a connection and tells its rooms; the directory learns of it after. */
  private forget(ws: WebSocket): void {
    const attachment = this.connections.remove(ws);
    if (!attachment) return;
    this.ops.drop(attachment.id);
    for (const sub of attachment.subs) {
      this.ctx.waitUntil(this.links.leave(sub.room, [this.change(attachment, sub, false)], this.connections.inRoom(sub.room).size > 0));
    }
    this.ctx.waitUntil(this.loop.sync());
  }

  private direct(item: RoomPushItem, sockets: Iterable<WebSocket>): number {
    const exclude = item.exclude && item.exclude.length > 0 ? new Set(item.exclude) : null;
    let n = 0;
    for (const ws of sockets) {
      const attachment = this.connections.get(ws);
      if (!attachment || exclude?.has(attachment.id)) continue;
      const frame = HANDLERS[attachment.protocol].frame(attachment, null, { seq: 0, message: item.message });
      if (frame !== null && this.send(ws, frame)) n++;
    }
    return n;
  }

  private change(attachment: GatewayAttachment, sub: Subscription, on: boolean): TrackChange {
    const change: TrackChange = { clientId: attachment.id, uid: sub.member?.id ?? attachment.uid ?? "", on };
    if (sub.member) change.info = sub.member.info;
    return change;
  }

  private reportToDirectory(force: boolean): Promise<boolean> {
    const sockets = [...this.connections.entries()].map(([, a]) => ({ uid: a.uid }));
    return this.reporter.report(this.name, sockets, { uids: new Set(), gateways: 0 }, force).catch((err: unknown) => {
      this.logError("report", err);
      return false;
    });
  }

  private logError(method: string, err: unknown): void {
    logEvent("gateway_error", { class: "GatewayObject", gateway: this.name, method, error: errorText(err) }, "error");
  }
}

function parseGroups(header: string | null): string[] {
  if (!header) return [];
  const value = JSON.parse(header) as unknown;
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : [];
}

