/** Shapes shared by the directory, the rooms that report to it and the Worker that asks it. */
import type { GatewayName, RoomName } from "../contract/names";
import type { RoomPushItem, RoomPushResult } from "../room/types";

/** What a room tells one shard; rooms send only what changed since the shard last acknowledged. */
export interface ShardReport {
  /** A room, or a gateway shard registering its connections and bound uids. */
  room: RoomName | GatewayName;
  /** The room's live sockets, sent to the room's own shard only (with `gateways`). */
  connections?: number;
  /** Gateways holding subscribers of the room; a room with neither sockets nor gateways deregisters. */
  gateways?: number;
  /** uids this shard indexes that now have a socket in the room. */
  add: string[];
  /** uids this shard indexes that no longer have one. */
  remove: string[];
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

/** One room's answer to one message, as a tally of one room. */
export function tallyOf(result: RoomPushResult): BroadcastTally {
  return { delivered: result.delivered, queued: result.queued ? 1 : 0, duplicates: result.duplicate ? 1 : 0, rooms: 1, failed: 0 };
}

/** Adds `from` into `into`, field by field: the one place tallies are summed. */
export function addTally(into: BroadcastTally, from: BroadcastTally): void {
  into.delivered += from.delivered;
  into.queued += from.queued;
  into.duplicates += from.duplicates;
  into.rooms += from.rooms;
  into.failed += from.failed;
}

/** What a room's directory report says of its gateway subscribers. */
export interface RemoteSummary {
  uids: Set<string>;
  gateways: number;
}
