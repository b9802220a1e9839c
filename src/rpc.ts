/**
 * The RPC surfaces of the Durable Objects, as their callers see them. Declared apart from the
 * classes so that callers (and Env) never import a Durable Object module.
 */
import type { GatewayName, ListedName, RoomName } from "./contract/names";
import type { OutboundMessage } from "./contract/protocol";
import type { BroadcastTally, DirectoryStats, Listing, ShardReport } from "./directory/types";
import type {
  ClientInfo, GatewayDeliverResult, GatewayItem, MemberEvent, OpResult, TrackChange, TrackReplay, TrackResult,
} from "./gateway/types";
import type { RoomPresence, RoomPushItem, RoomPushResult, SocketTarget } from "./room/types";

/** What the Worker and the directory call on a room (RoomObject implements it). */
export interface RoomApi extends Rpc.DurableObjectBranded {
  push(room: RoomName, items: RoomPushItem[]): Promise<RoomPushResult[]>;
  /** A gateway's connections subscribed to or left this room; with `replay`, answers the log rows too. */
  track(room: RoomName, gateway: GatewayName, changes: TrackChange[], replay?: TrackReplay): TrackResult;
  /** A gateway that restarted without its connections: forget its subscribers. */
  forget(room: RoomName, gateway: GatewayName): void;
  /** A message a gateway connection sent to the room (a Pusher client event): live, not logged. */
  clientEvent(room: RoomName, message: OutboundMessage, from: string): Promise<number>;
  presence(): RoomPresence;
  /** clientIds of the room's own sockets, and the gateways that hold subscribers of it. */
  subscribers(): { clientIds: string[]; remote: string[]; gateways: GatewayName[] };
  /** GatewayWorker's ungroup: every gateway connection leaves; the room's own sockets close with 4001. */
  ungroup(room: RoomName): Promise<number>;
  /** Revokes `uid`'s membership: its own sockets here close with 4001, its gateway connections leave. */
  revoke(room: RoomName, uid: string): Promise<number>;
  close(target: SocketTarget, code: number, reason: string): Promise<number>;
  notify(frame: string): Promise<number>;
  /** What the room holds, for a directory shard checking on it. */
  listing(): Listing;
}

/** What the Worker, rooms and the directory call on a gateway (GatewayObject implements it). */
export interface GatewayApi extends Rpc.DurableObjectBranded {
  deliver(room: RoomName, items: GatewayItem[]): GatewayDeliverResult;
  /** Pushes addressed to single connections of this gateway (`{"clientId"}`); a repeated id is a duplicate. */
  deliverTo(items: RoomPushItem[]): RoomPushResult[];
  announce(event: MemberEvent): void;
  /** `all` pushes, from the directory, to every connection here; a repeated id is a duplicate. */
  push(name: GatewayName, items: RoomPushItem[]): RoomPushResult[];
  close(target: SocketTarget, code: number, reason: string): Promise<number>;
  /** What the gateway holds, for a directory shard checking on it. */
  listing(): Listing;
  clientInfo(clientId: string): ClientInfo;
  bindUid(clientId: string, uid: string): Promise<OpResult>;
  /** Unbinds whatever uid the connection holds (GatewayWorker ignores unbindUid's uid). */
  unbindUid(clientId: string): Promise<OpResult>;
  joinGroup(clientId: string, group: string): Promise<OpResult>;
  leaveGroup(clientId: string, group: string): Promise<OpResult>;
  setSession(clientId: string, session: Record<string, unknown>, merge: boolean): Promise<OpResult>;
  closeClient(clientId: string, message?: string): Promise<OpResult>;
  /** Gateway-mode connections subscribed to `room` (all of them when null), with their sessions. */
  clients(room: RoomName | null): { clientIds: string[]; sessions: Record<string, Record<string, unknown> | null> };
  /** Takes this gateway's connections (of `uid`, when given) out of `room`; answers how many. */
  ungroup(room: RoomName, uid?: string): Promise<number>;
  /** A control frame (a grant's `join`) to the room's subscribers here that read frames (envelope format). */
  notify(room: RoomName, frame: string): number;
}

/** What rooms and the Worker call on a shard or relay (Directory implements it). */
export interface DirectoryApi extends Rpc.DurableObjectBranded {
  report(r: ShardReport): Promise<void>;
  /** Counts of the shard, right within PRESENCE_CHECK_S (rooms not heard from lately are asked first). */
  stats(): Promise<DirectoryStats>;
  roomsOf(uid: string): ListedName[];
  listUids(cursor: string, limit: number): Promise<string[]>;
  listGroups(cursor: string, limit: number): Promise<string[]>;
  /** Gateway shards of this directory shard holding connections. */
  gateways(): GatewayName[];
  broadcast(items: RoomPushItem[], label: string): Promise<BroadcastTally[]>;
  relay(rooms: ListedName[], items: RoomPushItem[], label: string): Promise<BroadcastTally[]>;
}
