/** Names of uids, groups, rooms and clients. Pure: no Workers or Node APIs. */

export const NAME_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
export const NAME_RULE = "1-128 chars of [A-Za-z0-9_.:@-]";

export type RoomKind = "uid" | "group";
/** `uid:<uid>` or `group:<group>`: the Durable Object name of a room. */
export type RoomName = `${RoomKind}:${string}`;

/** True when `value` is a valid uid or group name. */
export function isName(value: unknown): value is string {
  return typeof value === "string" && NAME_PATTERN.test(value);
}

/** @example roomName("uid", "u1") // "uid:u1" */
export function roomName(kind: RoomKind, name: string): RoomName {
  return `${kind}:${name}`;
}

/** Splits a room name back into kind and name; null when it is not one. */
export function parseRoomName(room: string): { kind: RoomKind; name: string } | null {
  const colon = room.indexOf(":");
  const kind = room.slice(0, colon);
  const name = room.slice(colon + 1);
  if ((kind !== "uid" && kind !== "group") || !isName(name)) return null;
  return { kind, name };
}

// A clientId carries its room so the Worker can route to it without a lookup table.
// Longest: base64url("group:" + 128 chars) = 179 chars + "." + 22, under the 256-char tag limit.
const CLIENT_ID_PATTERN = /^([A-Za-z0-9_-]{4,180})\.([A-Za-z0-9_-]{16,32})$/;

/** A new clientId for a socket in `room`. */
export function newClientId(room: RoomName, random: Uint8Array): string {
  return `${toBase64Url(room)}.${toBase64Url(String.fromCharCode(...random))}`;
}

/** The room a clientId lives in, or null when the string is not a clientId we issue. */
export function roomOfClientId(clientId: unknown): RoomName | null {
  if (typeof clientId !== "string") return null;
  const match = CLIENT_ID_PATTERN.exec(clientId);
  if (!match) return null;
  let room: string;
  try {
    room = fromBase64Url(match[1]);
  } catch {
    return null;
  }
  return parseRoomName(room) ? (room as RoomName) : null;
}

function toBase64Url(binary: string): string {
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  return atob(text.replace(/-/g, "+").replace(/_/g, "/"));
}

/** `gw:<shard>`: the Durable Object name of a gateway shard. */
export type GatewayName = `gw:${number}`;

export function gatewayName(shard: number): GatewayName {
  return `gw:${shard}`;
}

/** What the directory lists as live: a room, or a gateway shard (it registers the same way). */
export type ListedName = RoomName | GatewayName;

export function isGatewayName(name: string): name is GatewayName {
  return name.startsWith("gw:");
}

// A gateway connection's id is shaped like a Pusher socket_id (`\d+\.\d+`, which the Pusher SDKs
// check) and names its shard first, so the Worker routes `{"clientId"}` pushes and binds to it
// without a lookup table.
const GATEWAY_CLIENT_ID = /^(0|[1-9]\d{0,5})\.(\d{16})$/;
const GATEWAY_ID_DIGITS = 16;

/**
 * A new id for a connection held by gateway shard `shard`. `random` is for tests.
 * @example newGatewayClientId(3) // "3.4815162342108015"
 */
export function newGatewayClientId(shard: number, random?: Uint8Array): string {
  if (!Number.isInteger(shard) || shard < 0 || shard > 999_999) throw new RangeError(`bad shard ${shard}`);
  let digits = "";
  while (digits.length < GATEWAY_ID_DIGITS) {
    const bytes = random ?? crypto.getRandomValues(new Uint8Array(32));
    // Bytes of 250 and over would make 0-5 likelier than 6-9: skip them.
    for (const b of bytes) if (b < 250 && digits.length < GATEWAY_ID_DIGITS) digits += String(b % 10);
    if (random && digits.length < GATEWAY_ID_DIGITS) throw new RangeError("not enough random bytes");
  }
  return `${shard}.${digits}`;
}

/** The gateway shard a connection id names, or null when it is not a gateway connection's id. */
export function gatewayOfClientId(clientId: unknown): number | null {
  if (typeof clientId !== "string") return null;
  const match = GATEWAY_CLIENT_ID.exec(clientId);
  return match ? Number(match[1]) : null;
}

/** True when `clientId` is any connection id edgepush issues (a `/ws` socket or a gateway one). */
export function isClientId(clientId: unknown): clientId is string {
  return roomOfClientId(clientId) !== null || gatewayOfClientId(clientId) !== null;
}

/**
 * Pusher's cache channels of every kind (`cache-`, `private-cache-`, `private-encrypted-cache-`,
 * `presence-cache-`): a new subscriber gets the channel's last event. The one rule the rooms (which
 * keep that event) and the Pusher tier (which answers with it, or `pusher:cache_miss`) share.
 * @example isCacheChannelName("private-encrypted-cache-prices") // true
 */
export function isCacheChannelName(name: string): boolean {
  return /^(?:private-encrypted-|private-|presence-)?cache-/.test(name);
}
