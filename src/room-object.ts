import { DurableObject } from "cloudflare:workers";
import { ApiError, errorBody } from "./contract/errors";
import { newClientId, parseRoomName, type GatewayName, type RoomName } from "./contract/names";
import { CLOSE_REMOVED_FROM_GROUP, PING, PONG, type OutboundMessage } from "./contract/protocol";
import { gatewayStub, safeLimits, type Env, type Limits } from "./env";
import type { TrackChange, TrackReplay, TrackResult } from "./gateway/types";
import { readClientFrame, type FrameDeps } from "./room/client-frames";
import { GatewayLink, isCacheRoom } from "./room/gateway-link";
import { SocketGuard } from "./room/guard";
import { RoomLog } from "./room/log";
import { RoomMessages } from "./room/messages";
import { RateLimiter } from "./room/rate-limit";
import { RoomRoster, SocketMap } from "./room/roster";
import type { RoomApi } from "./rpc";
import type { Listing } from "./directory/types";
import {
  ROOM_HEADER, type RoomPresence, type RoomPushItem, type RoomPushResult, type SocketAttachment, type SocketTarget,
} from "./room/types";
import { errorText, logEvent } from "./util/log";
import { meterEntry, meterObject } from "./util/meter";
import { groupOfRoom } from "./webhooks/events";
import { Webhooks } from "./webhooks/webhooks";

/**
 * One room (`uid:<uid>` or `group:<group>`): holds its WebSockets on the Hibernation API,
 * fans pushes out to them, and keeps the room's message log for replay.
 */
export class RoomObject extends DurableObject<Env> implements RoomApi {
  private readonly sockets = new SocketMap();
  private readonly rates: RateLimiter<WebSocket>;
  private readonly guard: SocketGuard;
  private readonly limits: Limits;
  private readonly log: RoomLog;
  private name: RoomName | null;
  private alarmAt: number | null = null;
  private readonly roster: RoomRoster;
  private readonly gateways: GatewayLink;
  private readonly hooks: Webhooks;
  private readonly frameDeps: FrameDeps;
  private readonly messages: RoomMessages;
  /** Token clients were connected when this instance started (they took the offline queue before). */
  private wokeWithClient = false;

  constructor(ctx: DurableObjectState, env: Env) {
    // `npm run cost` counts this object's rows and requests; otherwise `env` is left as it is.
    super(ctx, (env = meterObject(ctx, env, "RoomObject")));
    this.limits = safeLimits(env);
    this.rates = new RateLimiter(this.limits.publishRatePer10s);
    this.guard = new SocketGuard(ctx, this.sockets, this.limits, () => this.name);
    // Answered by the runtime without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    // A token client connected across a wake took the queue when it connected (see RoomLog).
    this.log = new RoomLog(ctx.storage.sql, { maxRows: this.limits.logMaxRows, maxBytes: this.limits.logMaxBytes },
      () => this.wokeWithClient);
    this.name = this.log.meta("name") as RoomName | null;
    // In-memory state is gone after hibernation: rebuild it from the sockets' attachments.
    for (const ws of ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as SocketAttachment | null;
      // A socket this room already closed may linger as CLOSING until the peer answers: not ours.
      if (attachment && ws.readyState === WebSocket.OPEN) this.sockets.set(ws, attachment);
    }
    this.wokeWithClient = this.sockets.tokenClients > 0;
    this.sockets.onLastTokenClient = () => this.log.saveTaken();
    this.gateways = new GatewayLink(ctx, env, () => this.roster.remoteChanged());
    // From here on every socket that comes is reported to the directory.
    this.roster = new RoomRoster(ctx, env, this.sockets, () => this.name, (at) => this.scheduleAlarm(at), () => ({
      uids: this.gateways.subscribers.uids(),
      gateways: this.gateways.subscribers.gateways().length,
    }));
    // Every socket that leaves, by whatever path, is one connection_closed (the ledger drops repeats).
    this.hooks = new Webhooks(ctx, env, (at) => this.scheduleAlarm(at), () => this.liveClientIds());
    this.messages = new RoomMessages({
      ctx, sockets: this.sockets, log: this.log, guard: this.guard, gateways: this.gateways,
      name: () => this.name, report: (method, err) => this.report(method, err),
    });
    this.frameDeps = {
      sockets: this.sockets,
      guard: this.guard,
      rates: this.rates,
      maxFrameBytes: this.limits.maxFrameBytes,
      isGroupRoom: () => this.name?.startsWith("group:") ?? false,
      tellBackend: (attachment, data) =>
        this.hooks.message({ client_id: attachment.clientId, uid: attachment.uid, group: groupOfRoom(this.name ?? ""), data }),
      publish: (ws, attachment, data, echo) => this.messages.publish(ws, attachment, data, echo),
    };
    this.sockets.onRemove = (attachment, code) => this.hooks.closed(attachment.clientId, code);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Accepts a WebSocket upgrade forwarded by the Worker. */
  async fetch(request: Request): Promise<Response> {
    try {
      const response = this.accept(request);
      // The 101 waits for the directory, so an `all` push sent after connect reaches this socket.
      await this.roster.settled();
      return response;
    } catch (err) {
      const apiError = err instanceof ApiError ? err : new ApiError(500, "internal", "room failed to accept");
      if (!(err instanceof ApiError)) this.report("fetch", err);
      return Response.json(errorBody(apiError), { status: apiError.status });
    }
  }

  /** Delivers messages in order to the room's sockets, then to its gateways; one call per room per `/push`. */
  async push(room: RoomName, items: RoomPushItem[]): Promise<RoomPushResult[]> {
    this.roster.closeExpired(Date.now());
    // An `all` push meeting a room that emptied since its shard last heard of it: nothing to do, and the shard learns.
    if (items[0]?.broadcast && this.sockets.size === 0) {
      this.roster.foundEmpty();
      return items.map(() => ({ delivered: 0, queued: false, duplicate: false, empty: true }));
    }
    this.remember(room);
    return this.messages.push(room, items);
  }

  /** A gateway's connections subscribed to or left this room; answers what a subscriber needs. */
  track(room: RoomName, gateway: GatewayName, changes: TrackChange[], replay?: TrackReplay): TrackResult {
    this.remember(room);
    const members = this.gateways.track(room, gateway, changes);
    const result: TrackResult = { seq: this.log.lastSeq };
    if (members) result.members = members;
    if (isCacheRoom(room) && changes.some((c) => c.on)) result.last = this.log.last(Date.now());
    // Synchronous with the subscription: the gateway holds live messages until these are sent.
    if (replay) result.rows = this.messages.owed(room, replay.since);
    return result;
  }

  /** A gateway that restarted without its connections: forget its subscribers. */
  forget(room: RoomName, gateway: GatewayName): void {
    this.remember(room);
    this.gateways.forget(room, gateway);
  }

  /** A gateway connection's message to the room (a Pusher client event): live to all but `from`. */
  async clientEvent(room: RoomName, message: OutboundMessage, from: string): Promise<number> {
    this.roster.closeExpired(Date.now());
    this.remember(room);
    return this.messages.clientEvent(room, message, from);
  }

  /** Who is connected here (legacy connections included) and through gateways. */
  presence(): RoomPresence {
    this.roster.closeExpired(Date.now());
    const uids = this.gateways.subscribers.uids();
    for (const attachment of this.sockets.values()) uids.add(attachment.uid);
    return { connections: this.sockets.size + this.gateways.size, uids: [...uids] };
  }

  subscribers(): { clientIds: string[]; remote: string[]; gateways: GatewayName[] } {
    const clientIds = [...this.sockets.values()].map((a) => a.clientId);
    return { clientIds, remote: this.gateways.subscribers.clientIds(), gateways: this.gateways.subscribers.gateways() };
  }

  async ungroup(room: RoomName): Promise<number> {
    this.remember(room);
    const local = await this.roster.close({ all: true }, CLOSE_REMOVED_FROM_GROUP, "group dissolved");
    const counts = await Promise.all(this.gateways.subscribers.gateways().map((g) => gatewayStub(this.env, g).ungroup(room)));
    return counts.reduce((a, b) => a + b, local);
  }

  async revoke(room: RoomName, uid: string): Promise<number> {
    this.remember(room);
    const local = await this.roster.close({ uid }, CLOSE_REMOVED_FROM_GROUP, "removed from group");
    const holding = this.gateways.subscribers.gatewaysOf(uid);
    const counts = await Promise.all(holding.map((g) => gatewayStub(this.env, g).ungroup(room, uid)));
    return counts.reduce((a, b) => a + b, local);
  }

  /** Closes the target's sockets here with `code`; answers how many. */
  close(target: SocketTarget, code: number, reason: string): Promise<number> {
    return this.roster.close(target, code, reason);
  }

  /** Sends a control frame (e.g. `join`) to every token-authenticated socket, here and on gateways; answers how many. */
  async notify(frame: string): Promise<number> {
    this.roster.closeExpired(Date.now());
    const local = this.roster.notify(frame);
    const room = this.name;
    if (!room) return local;
    const remote = await Promise.all(this.gateways.subscribers.gateways().map((g) =>
      gatewayStub(this.env, g).notify(room, frame).catch((err: unknown) => (this.report("notify", err), 0))));
    return remote.reduce((a, b) => a + b, local);
  }

  /** What this room holds, for a directory shard checking on it (it reports what comes, not what goes). */
  listing(): Listing {
    return this.roster.listing();
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    meterEntry(this.env, "RoomObject", "webSocketMessage");
    try {
      this.roster.closeExpired(Date.now());
      readClientFrame(this.frameDeps, ws, message);
    } catch (err) {
      this.report("webSocketMessage", err);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    meterEntry(this.env, "RoomObject", "webSocketClose");
    this.sockets.delete(ws, code);
    this.guard.holding(-1);
    // A socket the room never mapped (it was closing when the room woke) is still one close.
    this.hooks.closed((ws.deserializeAttachment() as SocketAttachment | null)?.clientId ?? "", code);
    // The directory first: a client that sees its close already finds /stats without it.
    await this.roster.settled();
    try {
      // workerd throws when echoing 1005/1006/1015, which may not be sent on the wire.
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    meterEntry(this.env, "RoomObject", "webSocketError");
    this.sockets.delete(ws, 1006);
    this.guard.holding(-1);
    this.report("webSocketError", error);
    await this.roster.settled();
  }

  async alarm(): Promise<void> {
    meterEntry(this.env, "RoomObject", "alarm");
    try {
      this.alarmAt = null;
      // Expired log rows need no alarm (a later message overwrites them): only the heartbeat, a
      // directory report that did not land and webhooks use it, each asking for its next time.
      await this.roster.alarm(Date.now());
      await this.hooks.alarm();
    } catch (err) {
      this.report("alarm", err);
    }
  }

  private accept(request: Request): Response {
    const headers = request.headers;
    const room = headers.get(ROOM_HEADER.room) as RoomName;
    const uid = headers.get(ROOM_HEADER.uid);
    if (!room || !parseRoomName(room) || !uid) throw new ApiError(400, "bad_request", "not a room upgrade");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(426, "upgrade_required", "expected Upgrade: websocket");
    }
    this.remember(room);
    if (this.sockets.size >= this.limits.maxSocketsPerRoom) {
      throw new ApiError(503, "room_full", `room ${room} holds MAX_SOCKETS_PER_ROOM (${this.limits.maxSocketsPerRoom}) sockets`);
    }
    const refused = this.guard.capacityError() ?? this.guard.cutOffError(uid, Date.now());
    if (refused) throw refused;
    if (this.ctx.getWebSockets(`u:${uid}`).length >= this.limits.maxSocketsPerUid) {
      throw new ApiError(429, "too_many_connections", `uid ${uid} holds MAX_SOCKETS_PER_UID (${this.limits.maxSocketsPerUid}) sockets in ${room}`);
    }
    const attachment: SocketAttachment = {
      uid,
      clientId: newClientId(room, crypto.getRandomValues(new Uint8Array(16))),
      format: headers.get(ROOM_HEADER.format) === "raw" ? "raw" : "envelope",
      legacy: headers.get(ROOM_HEADER.legacy) === "1",
      connectedAt: Date.now(),
    };
    const exp = Number(headers.get(ROOM_HEADER.exp));
    // Closed at its first use after then (4002), with no alarm of its own; the client library gets a new token and resumes.
    if (!attachment.legacy && exp > 0) attachment.exp = exp;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [`c:${attachment.clientId}`, `u:${uid}`]);
    this.guard.holding(+1);
    server.serializeAttachment(attachment);
    this.sockets.set(server, attachment);
    this.hooks.opened({ client_id: attachment.clientId, uid, group: groupOfRoom(room), protocol: "ws" });
    if (!attachment.legacy) {
      server.send(JSON.stringify({ type: "init", clientId: attachment.clientId, uid, room, seq: this.log.lastSeq }));
      const since = headers.get(ROOM_HEADER.since);
      // Synchronous from here to the return: no push can slip between replay and live.
      this.messages.replay(server, attachment, room, since === null ? null : Number(since));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  private liveClientIds(): string[] {
    return this.ctx.getWebSockets().map((ws) => (ws.deserializeAttachment() as SocketAttachment | null)?.clientId ?? "");
  }

  private remember(room: RoomName): void {
    if (this.name === room) return;
    this.name = room;
    this.log.setMeta("name", room);
  }

  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  private report(method: string, err: unknown): void {
    logEvent("room_error", { class: "RoomObject", room: this.name, method, error: errorText(err) }, "error");
  }
}
