/**
 * Pusher channel names: validation, kinds, and the edgepush room each one is. Pure: no Workers
 * or Node APIs. Rules from Pusher's docs (using_channels/channels.md, cache-channels.md) and
 * pusher-js 8 (core/channels/channels.ts createChannel, core/user.ts).
 */
import { isCacheChannelName, isName, roomName, type RoomName } from "../../contract/names";

/** "Channel names may contain a maximum of 164 characters", prefixes included. */
export const MAX_CHANNEL_LENGTH = 164;
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_\-=@,.;]{1,164}$/;
export const CHANNEL_NAME_RULE = "1-164 chars of [A-Za-z0-9_-=@,.;]";
/** pusher-js subscribes a signed-in user to `#server-to-user-<id>` (core/user.ts). */
export const USER_CHANNEL_PREFIX = "#server-to-user-";

/**
 * - `public`: anyone may subscribe (also `cache-`).
 * - `private`: `private-` (also `private-cache-`), needs `auth`.
 * - `encrypted`: `private-encrypted-` (also `private-encrypted-cache-`): signed like `private-`;
 *   the payload is encrypted by the server SDK and decrypted by the client, so the relay only
 *   passes ciphertext on, as soketi does. Supported.
 * - `presence`: `presence-` (also `presence-cache-`), needs `auth` and `channel_data`.
 * - `user`: `#server-to-user-<id>`, only for a socket signed in as `<id>`.
 */
export type ChannelKind = "public" | "private" | "encrypted" | "presence" | "user";

/** A valid channel name and what it is. */
export interface ChannelInfo {
  name: string;
  kind: ChannelKind;
  /** A cache channel: a new subscriber gets the last event, or `pusher:cache_miss`. */
  cache: boolean;
  /** With kind `user`: the signed-in user id the channel belongs to. */
  userId?: string;
}

export type ChannelResult = { ok: true; channel: ChannelInfo } | { ok: false; reason: string };

// Longest prefix first: `private-encrypted-` also starts with `private-`.
const PREFIXES: ReadonlyArray<[string, Exclude<ChannelKind, "public" | "user">]> = [
  ["private-encrypted-", "encrypted"],
  ["private-", "private"],
  ["presence-", "presence"],
];

/**
 * Validates and classifies a channel name; the reason names the rule that failed.
 * @example classifyChannel("presence-cache-room.1") // { ok: true, channel: { kind: "presence", cache: true, … } }
 */
export function classifyChannel(name: unknown): ChannelResult {
  if (typeof name !== "string") return { ok: false, reason: "channel must be a string" };
  if (name.startsWith(USER_CHANNEL_PREFIX)) return classifyUserChannel(name);
  if (!CHANNEL_NAME_PATTERN.test(name)) {
    return { ok: false, reason: `invalid channel name: must be ${CHANNEL_NAME_RULE}` };
  }
  for (const [prefix, kind] of PREFIXES) {
    if (name.startsWith(prefix)) {
      return { ok: true, channel: { name, kind, cache: isCacheChannelName(name) } };
    }
  }
  return { ok: true, channel: { name, kind: "public", cache: isCacheChannelName(name) } };
}

// Pusher reserves `#`; its only channel is the user's. The id must be an edgepush uid, so that
// a signed-in Pusher user and the uid of the same name are one room.
function classifyUserChannel(name: string): ChannelResult {
  const userId = name.slice(USER_CHANNEL_PREFIX.length);
  if (!isName(userId)) {
    return { ok: false, reason: "invalid user channel: the user id must be 1-128 chars of [A-Za-z0-9_.:@-]" };
  }
  return { ok: true, channel: { name, kind: "user", cache: false, userId } };
}

/**
 * True for a valid cache channel of any kind (the rule: contract/names.ts `isCacheChannelName`,
 * which the rooms share): the trigger's ttl and the subscribe answer use it.
 * @example isCacheChannel("private-encrypted-cache-prices") // true
 */
export function isCacheChannel(name: string): boolean {
  const result = classifyChannel(name);
  return result.ok && result.channel.cache;
}

/** True when `name` is a valid channel name of any kind. */
export function isChannelName(name: unknown): name is string {
  return classifyChannel(name).ok;
}

/** True for kinds whose subscription needs an `auth` signature. */
export function needsAuth(kind: ChannelKind): boolean {
  return kind === "private" || kind === "encrypted" || kind === "presence";
}

/** Client events (`client-*`) are accepted only on authorized channels (events.md). */
export function allowsClientEvents(kind: ChannelKind): boolean {
  return needsAuth(kind);
}

/** The channel of a signed-in user. @example userChannel("42") // "#server-to-user-42" */
export function userChannel(userId: string): string {
  return `${USER_CHANNEL_PREFIX}${userId}`;
}

/**
 * The edgepush room a channel is: `group:<channel>`, or `uid:<id>` for `#server-to-user-<id>`.
 * Note that `=`, `,`, `;` and names of 129-164 chars are valid channels but not native group
 * names: such rooms exist only for Pusher clients. Null when `name` is not a channel.
 * @example channelRoom("orders") // "group:orders"
 */
export function channelRoom(name: string): RoomName | null {
  const result = classifyChannel(name);
  if (!result.ok) return null;
  const { channel } = result;
  return channel.kind === "user" ? roomName("uid", channel.userId!) : roomName("group", channel.name);
}

/**
 * The channel a room is seen as by Pusher clients; null when the room's name is not a channel
 * name (a native group with `:` in it, for example).
 * @example roomChannel("uid:42") // "#server-to-user-42"
 */
export function roomChannel(room: string): string | null {
  if (room.startsWith("uid:")) {
    const uid = room.slice(4);
    return isName(uid) ? userChannel(uid) : null;
  }
  if (room.startsWith("group:")) {
    const name = room.slice(6);
    return !name.startsWith("#") && isChannelName(name) ? name : null;
  }
  return null;
}
