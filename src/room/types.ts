/** Shapes shared by the room, the Worker and the directory: attachments, RPC items, headers. */
import type { Format, OutboundMessage } from "../contract/protocol";

/** Headers the Worker sets on an upgrade it forwards to a room (never trusted from clients). */
export const ROOM_HEADER = {
  room: "x-edgepush-room",
  uid: "x-edgepush-uid",
  format: "x-edgepush-format",
  since: "x-edgepush-since",
  legacy: "x-edgepush-legacy",
  /** The token's `exp` (unix seconds): the room closes the socket at its first use after then (4002). */
  exp: "x-edgepush-exp",
} as const;

/** Default seconds a message stays in a room's log, per the contract. */
export const DEFAULT_TTL_S = { uid: 86400, group: 300 } as const;

/** Per-socket data, kept in the hibernation attachment (workerd limit: 16 KiB serialized). */
export interface SocketAttachment {
  uid: string;
  clientId: string;
  format: Format;
  /** The seed's handshake: raw payloads only, no frames. */
  legacy: boolean;
  connectedAt: number;
  /** The token's `exp` (unix seconds); absent on legacy connections. */
  exp?: number;
}

/** One message as the Worker hands it to a room over RPC. */
export interface RoomPushItem {
  message: OutboundMessage;
  ttl?: number;
  /** The backend gave the id: a repeat within 24 h is not delivered again. */
  dedupe: boolean;
  exclude?: string[];
  /** Deliver to this one connection only (live, not logged). */
  clientId?: string;
  /** Part of an `all` push: gateways get it from the directory, so rooms keep it to their own sockets. */
  broadcast?: boolean;
}

export interface RoomPushResult {
  delivered: number;
  queued: boolean;
  duplicate: boolean;
  /** An `all` push found the room without sockets of its own: the shard stops listing it. */
  empty?: boolean;
}

/** The connections of one target in a room: a uid's sockets, or one clientId. */
export type SocketTarget = { uid: string } | { clientId: string } | { all: true };

/** Who is connected to a room. */
export interface RoomPresence {
  connections: number;
  uids: string[];
}
