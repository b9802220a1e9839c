/** The Worker's calls to the room directory: all shards for stats and `all`, one for a uid. */
import { ApiError } from "../contract/errors";
import type { GatewayName, ListedName } from "../contract/names";
import type { Env } from "../env";
import type { RoomPushItem } from "../room/types";
import type { DirectoryApi } from "../rpc";
import { errorText, logEvent } from "../util/log";
import { readDirectoryConfig, shardName, shardOf } from "./config";
import { addTally, emptyTally, type BroadcastTally, type DirectoryStats } from "./types";

function shardStubs(env: Env): DurableObjectStub<DirectoryApi>[] {
  const { shards } = readDirectoryConfig(env);
  return Array.from({ length: shards }, (_, i) => env.DIRECTORY.getByName(shardName(i)));
}

/** Live connections, rooms, uids and groups across the deployment (one call per shard). */
export async function deploymentStats(env: Env): Promise<DirectoryStats> {
  let parts: DirectoryStats[];
  try {
    parts = await Promise.all(shardStubs(env).map((shard) => shard.stats()));
  } catch (err) {
    logEvent("stats_failed", { error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "a directory shard did not answer; retry");
  }
  const total: DirectoryStats = { connections: 0, rooms: 0, groups: 0, uids: 0 };
  for (const part of parts) {
    total.connections += part.connections;
    total.rooms += part.rooms;
    total.groups += part.groups;
    total.uids += part.uids; // a uid is indexed by exactly one shard, so shards never share one
  }
  return total;
}

/** Every room where `uid` has a live socket: its own room and the groups it joined. */
export async function roomsOfUid(env: Env, uid: string): Promise<ListedName[]> {
  const { shards } = readDirectoryConfig(env);
  try {
    return await env.DIRECTORY.getByName(shardName(shardOf(`uid:${uid}`, shards))).roomsOf(uid);
  } catch (err) {
    logEvent("directory_failed", { uid, error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "the directory did not answer; retry");
  }
}

/** One page of a list the shards split between them. */
export interface Page {
  items: string[];
  /** Pass as `cursor` for the next page; null on the last one. */
  cursor: string | null;
}

/**
 * Online uids or live groups in name order, `limit` at a time after `cursor`: every shard
 * answers its first `limit`, and the merge keeps the first `limit` of all (shards are disjoint).
 */
export async function listAll(env: Env, what: "uids" | "groups", cursor: string, limit: number): Promise<Page> {
  let parts: string[][];
  try {
    parts = await Promise.all(
      shardStubs(env).map((shard) => (what === "uids" ? shard.listUids(cursor, limit) : shard.listGroups(cursor, limit))));
  } catch (err) {
    logEvent("list_failed", { what, error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "a directory shard did not answer; retry");
  }
  const all = parts.flat().sort();
  const items = all.slice(0, limit);
  const more = all.length > limit || parts.some((p) => p.length === limit);
  return { items, cursor: more && items.length > 0 ? items[items.length - 1] : null };
}

/**
 * Pushes `items` to every live room: each shard fans out to its own rooms (through relays
 * when it holds more than BROADCAST_FANOUT), so this Worker makes one call per shard.
 * A shard that fails counts one failed room per item.
 */
export async function broadcastAll(env: Env, items: RoomPushItem[]): Promise<BroadcastTally[]> {
  const tallies = items.map(emptyTally);
  await Promise.all(
    shardStubs(env).map(async (shard, index) => {
      let parts: BroadcastTally[];
      try {
        parts = await shard.broadcast(items, `s${index}`);
      } catch (err) {
        logEvent("broadcast_failed", { shard: index, messages: items.length, error: errorText(err) }, "error");
        for (const t of tallies) t.failed++;
        return;
      }
      parts.forEach((part, i) => addTally(tallies[i], part));
    }),
  );
  return tallies;
}

/** Every gateway shard that holds connections (each directory shard lists those that hash to it). */
export async function liveGateways(env: Env): Promise<GatewayName[]> {
  try {
    return (await Promise.all(shardStubs(env).map((shard) => shard.gateways()))).flat();
  } catch (err) {
    logEvent("directory_failed", { what: "gateways", error: errorText(err) }, "error");
    throw new ApiError(503, "unavailable", "a directory shard did not answer; retry");
  }
}
