/** The edgepush client: one socket per room, managed for the user. */
import { isName } from "../src/contract/names";
import { CLOSE_REMOVED_FROM_GROUP } from "../src/contract/protocol";
import { DEFAULT_BACKOFF } from "./backoff";
import { Emitter } from "./emitter";
import { tokenExpiry, type JoinFrame } from "./frames";
import { GatewaySocket } from "./gateway-socket";
import { RoomSocket, type RoomHost } from "./room-socket";
import type { EdgePushEvents, EdgePushOptions, Group } from "./types";

/** A granted token this close (ms) to its expiry is no longer used; `getToken` is asked instead. */
const GRANT_MARGIN_MS = 30_000;
// The uid's own room in the rooms map; group names cannot be empty.
const UID_ROOM = "";

/**
 * Real-time pushes from edgepush: the uid's own room (`connect`) and any number of groups
 * (`join`), each on its own socket — or, with `transport: "gateway"`, all on one — that
 * reconnects with backoff and resumes where it left off.
 * @example
 * const push = new EdgePushClient({ url: "https://push.example.com", getToken: () => myBackend.token() });
 * push.on("message", (m) => console.log(m.group ?? "me", m.data));
 * await push.connect();
 */
export class EdgePushClient extends Emitter<EdgePushEvents> {
  private readonly rooms = new Map<string, RoomSocket>();
  private readonly grants = new Map<string, string>();
  private readonly host: RoomHost;
  /** With `transport: "gateway"`, every room is on this one socket instead. */
  private readonly gateway: GatewaySocket | null;

  constructor(private readonly options: EdgePushOptions) {
    super();
    const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocketImpl) throw new Error("edgepush: no global WebSocket (use Node 22+ or pass options.WebSocket)");
    if (typeof options.getToken !== "function") throw new Error("edgepush: options.getToken is required");
    const gateway = options.transport === "gateway";
    this.host = {
      url: socketUrl(options.url, gateway ? "/gateway" : "/ws"),
      WebSocket: WebSocketImpl,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      pingInterval: options.pingInterval ?? 25_000,
      pongTimeout: options.pongTimeout ?? 10_000,
      token: (group) => this.token(group),
      emit: (type, event) => this.emit(type, event),
      onJoinFrame: (frame) => this.onJoinFrame(frame),
      onEnded: (group, code) => this.onEnded(group, code),
    };
    this.gateway = gateway ? new GatewaySocket(this.host) : null;
  }

  /** Opens the uid's own room (pushes to this uid, group grants). Resolves once it is open. */
  connect(): Promise<void> {
    return this.open(null);
  }

  /** Joins a group (its own socket). Resolves once it is open; `getToken` must allow the group. */
  join(group: string): Promise<void> {
    return this.open(checkGroup(group));
  }

  /** Leaves a group: closes its socket, no reconnect. */
  leave(group: string): void {
    if (this.gateway) return this.gateway.leave(checkGroup(group));
    const room = this.rooms.get(checkGroup(group));
    this.rooms.delete(group);
    room?.stop(1000, "left");
  }

  /**
   * Sends `data` to everyone in a joined group; they receive `{from: <your uid>, data}`. Held
   * while the group reconnects. `echo: false` leaves this client out.
   */
  publish(group: string, data: unknown, options: { echo?: boolean } = {}): void {
    if (this.gateway) return this.gateway.publish(checkGroup(group), data, options.echo !== false);
    const room = this.rooms.get(checkGroup(group));
    if (!room) throw new Error(`edgepush: join group ${group} before publishing to it`);
    room.publish(data, options.echo !== false);
  }

  /** Whether the room (a group, or the uid room when omitted) is open right now. */
  isOpen(group: string | null = null): boolean {
    if (this.gateway) return this.gateway.isOpen(group);
    return this.rooms.get(group ?? UID_ROOM)?.isOpen ?? false;
  }

  /** The groups this client is in or joining. */
  groups(): string[] {
    if (this.gateway) return this.gateway.groups();
    return [...this.rooms.keys()].filter((key) => key !== UID_ROOM);
  }

  /** Closes every room for good. */
  close(): void {
    if (this.gateway) return this.gateway.stop();
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    for (const room of rooms) room.stop(1000, "client closed");
  }

  private open(group: Group): Promise<void> {
    if (this.gateway) return this.gateway.want(group);
    const key = group ?? UID_ROOM;
    let room = this.rooms.get(key);
    if (!room) {
      room = new RoomSocket(this.host, group);
      this.rooms.set(key, room);
      room.start();
    }
    return room.ready;
  }

  private async token(group: Group): Promise<string> {
    const grant = group === null ? undefined : this.grants.get(group);
    if (grant !== undefined) {
      const exp = tokenExpiry(grant);
      if (exp !== null && exp * 1000 - Date.now() > GRANT_MARGIN_MS) return grant;
      this.grants.delete(group!);
    }
    const token = await this.options.getToken({ group });
    if (typeof token !== "string" || token === "") throw new Error("getToken must return a non-empty token string");
    return token;
  }

  // The server granted a group (POST /groups/:group/members): join it with the token it sent.
  private onJoinFrame(frame: JoinFrame): void {
    if (!isName(frame.group)) return;
    this.grants.set(frame.group, frame.token);
    if (this.options.autoJoin !== false && !this.groups().includes(frame.group)) void this.join(frame.group);
  }

  private onEnded(group: Group, code: number): void {
    this.rooms.delete(group ?? UID_ROOM);
    if (group !== null && code === CLOSE_REMOVED_FROM_GROUP) this.grants.delete(group);
  }
}

function checkGroup(group: string): string {
  if (!isName(group)) throw new TypeError(`edgepush: invalid group name ${JSON.stringify(group)} (1-128 chars of [A-Za-z0-9_.:@-])`);
  return group;
}

/** `https://host` → `wss://host/ws` (or `/gateway`); a URL already ending in that path is kept. */
function socketUrl(base: string | undefined, path: "/ws" | "/gateway"): string {
  const origin = base ?? (globalThis as { location?: { origin: string } }).location?.origin;
  if (!origin) throw new Error("edgepush: options.url is required outside a browser");
  const url = new URL(origin);
  if (url.protocol === "https:") url.protocol = "wss:";
  else if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new Error(`edgepush: unsupported URL ${origin}`);
  if (!url.pathname.endsWith(path)) url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = "";
  return url.toString();
}
