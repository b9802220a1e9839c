/**
 * The client's rooms on one `/gateway` socket (`transport: "gateway"`): the uid's own room and
 * every group, joined and left with frames over it, each resumed by its own `since`. A browser in
 * five groups holds one connection instead of six.
 */
import { CLOSE_KICKED, CLOSE_REMOVED_FROM_GROUP } from "../src/contract/protocol";
import { Connection } from "./connection";
import { RoomCursor } from "./cursor";
import { parseServerFrame, tokenGroups, type JoinedFrame, type PushFrame } from "./frames";
import { MAX_OUTBOX, deferred, type RoomHost } from "./room-socket";
import type { Group } from "./types";

interface Room {
  group: Group;
  /** Asked for by `connect`/`join` (not only joined by the backend). */
  wanted: boolean;
  open: boolean;
  cursor: RoomCursor;
  settle: ReturnType<typeof deferred>;
  outbox: string[];
}

// The uid's own room in the rooms map; group names cannot be empty.
const UID_ROOM = "";
/**
 * The keep-alive on `/gateway`: the gateway's runtime answers this exact frame itself (Pusher's
 * ping, its auto-response), without waking the gateway; a text `ping` would wake it.
 */
export const GATEWAY_PING = '{"event":"pusher:ping","data":{}}';

export class GatewaySocket {
  private readonly connection: Connection;
  private readonly rooms = new Map<string, Room>();
  private clientId = "";
  private uid = "";
  /** Groups the connection's token allows: joined without a token of their own. */
  private allowed: string[] = [];

  /** `host.url` is the `/gateway` URL. */
  constructor(private readonly host: RoomHost) {
    this.connection = new Connection({ ...host, ping: GATEWAY_PING }, {
      url: () => this.url(),
      onText: (text) => this.onMessage(text),
      onDrop: (code, reason) => this.onDrop(code, reason),
      onError: (code, message) => this.host.emit("error", { group: null, code, message }),
      onReconnecting: (attempt, delay) => {
        for (const room of this.wantedRooms()) this.host.emit("reconnecting", { group: room.group, attempt, delay });
      },
    });
  }

  /** Starts receiving the room (null: the uid's own); resolves once it is open. */
  want(group: Group): Promise<void> {
    const room = this.room(group);
    if (!room.wanted) {
      room.wanted = true;
      if (group !== null && this.connection.isOpen) void this.sendJoin(room);
    }
    this.connection.start();
    return room.settle.promise;
  }

  /** Leaves a group for good; the socket closes once no room is wanted. */
  leave(group: string): void {
    const room = this.rooms.get(group);
    if (!room?.wanted) return;
    this.rooms.delete(group);
    this.connection.send(JSON.stringify({ type: "leave", group }));
    room.settle.reject(new Error(`edgepush: left group ${group} before it opened`));
    this.host.emit("close", { group, code: 1000, reason: "left", willReconnect: false });
    if (this.wantedRooms().length === 0) this.stop(1000, "left");
  }

  publish(group: string, data: unknown, echo: boolean): void {
    const room = this.rooms.get(group);
    if (!room?.wanted) throw new Error(`edgepush: join group ${group} before publishing to it`);
    const frame = JSON.stringify(echo ? { type: "publish", group, data } : { type: "publish", group, data, echo: false });
    if (room.open && this.connection.send(frame)) return;
    if (room.outbox.length >= MAX_OUTBOX) throw new Error(`edgepush: ${MAX_OUTBOX} publishes already wait for group ${group}`);
    room.outbox.push(frame);
  }

  isOpen(group: Group): boolean {
    return this.connection.isOpen && (this.rooms.get(group ?? UID_ROOM)?.open ?? false);
  }

  groups(): string[] {
    return this.wantedRooms().flatMap((r) => (r.group === null ? [] : [r.group]));
  }

  /** Closes the socket for good; every wanted room is told. */
  stop(code = 1000, reason = "client closed"): void {
    const hadSocket = this.connection.stop(code, reason);
    for (const room of this.wantedRooms()) {
      if (hadSocket) this.host.emit("close", { group: room.group, code, reason, willReconnect: false });
      this.end(room);
    }
  }

  private async url(): Promise<string> {
    const token = await this.host.token(null);
    this.allowed = tokenGroups(token);
    const url = new URL(this.host.url);
    url.searchParams.set("token", token);
    url.searchParams.set("format", "envelope");
    // Groups are joined by `join` frames, each with its own since, never all at connect.
    url.searchParams.set("autojoin", "false");
    const since = this.rooms.get(UID_ROOM)?.cursor.lastSeq ?? null;
    if (since !== null) url.searchParams.set("since", String(since));
    return url.toString();
  }

  private onMessage(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    switch (frame.type) {
      case "init":
        if ("client_id" in frame) this.onInit(frame.client_id);
        return;
      case "joined":
        return this.onJoined(frame);
      case "push":
        return this.onPush(frame);
      case "left":
        return this.onLeft(frame.room);
      case "join":
        return this.host.onJoinFrame(frame);
      case "error":
        return this.host.emit("error", { group: null, code: String(frame.code), message: String(frame.message) });
    }
  }

  private onInit(clientId: string): void {
    this.clientId = clientId;
    this.connection.opened();
    for (const room of this.wantedRooms()) if (room.group !== null) void this.sendJoin(room);
  }

  // A group outside the token's groups needs a token of its own (a grant's, or getToken's).
  private async sendJoin(room: Room): Promise<void> {
    const group = room.group!;
    const frame: Record<string, unknown> = { type: "join", group };
    if (room.cursor.lastSeq !== null) frame.since = room.cursor.lastSeq;
    if (!this.allowed.includes(group)) {
      try {
        frame.token = await this.host.token(group);
      } catch (err) {
        return this.host.emit("error", { group, code: "token_failed", message: err instanceof Error ? err.message : String(err) });
      }
    }
    if (this.rooms.get(group) === room) this.connection.send(JSON.stringify(frame));
  }

  private onJoined(frame: JoinedFrame): void {
    const room = this.room(groupOf(frame.room));
    if (frame.uid !== undefined) this.uid = frame.uid;
    if (room.open) return;
    room.open = true;
    const resumed = room.cursor.opened(frame.seq);
    for (const queued of room.outbox.splice(0)) this.connection.send(queued);
    this.host.emit("open", { group: room.group, room: frame.room, uid: this.uid, clientId: this.clientId, seq: frame.seq, resumed });
    room.settle.resolve();
  }

  private onPush(frame: PushFrame): void {
    if (frame.room === undefined) return;
    const room = this.room(groupOf(frame.room));
    if (!room.cursor.accept(frame.seq, frame.id)) return;
    const { seq, id, data, ts } = frame;
    this.host.emit("message", { group: room.group, room: frame.room, seq, id, data, ts });
  }

  // The backend took the connection out of a room (revoke, ungroup, unbind), or our leave's answer.
  private onLeft(name: string): void {
    const group = groupOf(name);
    const room = this.rooms.get(group ?? UID_ROOM);
    if (!room) return;
    room.open = false;
    if (group !== null) this.rooms.delete(group);
    if (!room.wanted) return;
    this.host.emit("close", { group, code: CLOSE_REMOVED_FROM_GROUP, reason: "removed by the backend", willReconnect: false });
    this.host.onEnded(group, CLOSE_REMOVED_FROM_GROUP);
    if (group === null) room.wanted = false;
    this.end(room);
  }

  private onDrop(code: number, reason: string): boolean {
    const kicked = code === CLOSE_KICKED;
    for (const [key, room] of this.rooms) {
      room.open = false;
      // Rooms the backend joined belong to the old client_id; the uid room is resumed by since.
      if (!room.wanted && key !== UID_ROOM) this.rooms.delete(key);
    }
    for (const room of this.wantedRooms()) {
      this.host.emit("close", { group: room.group, code, reason, willReconnect: !kicked });
      if (kicked) this.end(room);
    }
    if (kicked) this.connection.stop(code, reason);
    return !kicked;
  }

  private room(group: Group): Room {
    const key = group ?? UID_ROOM;
    let room = this.rooms.get(key);
    if (!room) {
      room = { group, wanted: false, open: false, cursor: new RoomCursor(), settle: deferred(), outbox: [] };
      this.rooms.set(key, room);
    }
    return room;
  }

  private wantedRooms(): Room[] {
    return [...this.rooms.values()].filter((r) => r.wanted);
  }

  private end(room: Room): void {
    room.outbox.length = 0;
    room.settle.reject(new Error(`edgepush: room ${room.group ?? "of the uid"} closed before it opened`));
  }
}

/** `group:g` → "g"; `uid:u` → null (the uid's own room). */
function groupOf(room: string): Group {
  return room.startsWith("group:") ? room.slice("group:".length) : null;
}
