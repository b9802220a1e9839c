/** Shapes shared by the directory, the rooms that report to it and the Worker that asks it. */
import type { GatewayName, RoomName } from "../contract/names";
import type { RoomPushResult } from "../room/types";

/**
 * What a room (or gateway shard) holds, as the directory indexes it: what it answers a shard
 * that checks on it (`listing()`), and what its reports carry.
 */
export interface Listing {
  /** Sockets the room holds itself. */
  connections: number;
  /** Gateways holding subscribers of the room. */
  gateways: number;
  /** Each uid with a socket here: how many the room holds (0: only through gateways). */
  uids: Record<string, number>;
}

/**
 * What a room tells one shard: the part of its listing that shard indexes, as it is now. Rooms
 * report what came (a connect, a subscriber); what went may wait until a shard checks on them.
 */
export interface ShardReport {
  /** A room, or a gateway shard registering its connections and bound uids. */
  room: RoomName | GatewayName;
  /** The room's own sockets, sent to the room's own shard only (with `gateways`). */
  connections?: number;
  gateways?: number;
  /** uids this shard indexes: the room's sockets of each (0: through gateways only), null when none is left. */
  uids?: Record<string, number | null>;
}

/** One broadcast message's outcome over a set of rooms. */
export interface BroadcastTally {
  delivered: number;
  /** Rooms that stored the message in their log. */
  queued: number;
  duplicates: number;
  rooms: number;
  failed: number;
}

export interface DirectoryStats {
  connections: number;
  rooms: number;
  groups: number;
  uids: number;
}

/** A tally of nothing yet. */
export function emptyTally(): BroadcastTally {
  return { delivered: 0, queued: 0, duplicates: 0, rooms: 0, failed: 0 };
}

/** One room's answer to one message, as a tally of one room (of none when the room was found empty). */
export function tallyOf(result: RoomPushResult): BroadcastTally {
  return { delivered: result.delivered, queued: result.queued ? 1 : 0, duplicates: result.duplicate ? 1 : 0, rooms: result.empty ? 0 : 1, failed: 0 };
}

/** Adds `from` into `into`, field by field: the one place tallies are summed. */
export function addTally(into: BroadcastTally, from: BroadcastTally): void {
  into.delivered += from.delivered;
  into.queued += from.queued;
  into.duplicates += from.duplicates;
  into.rooms += from.rooms;
  into.failed += from.failed;
}
