/**
 * Pusher signatures for channel subscriptions and user sign-in, the user data they carry, and
 * socket ids that encode their gateway shard. WebCrypto only: runs in workerd and Node 20.
 * Signing rules from Pusher's library_auth_reference/auth-signatures.md.
 */
import { isName } from "../../contract/names";
import { utf8Length } from "../../util/text";

const encoder = new TextEncoder();

/** Presence limits (presence-channels.md): "1KB limit for user object, 128 characters for user id". */
export const MAX_USER_ID_LENGTH = 128;
export const MAX_USER_INFO_BYTES = 1024;
/** Watchlist limit (pusher-websockets-protocol.md, pusher:signin). */
export const MAX_WATCHLIST = 100;

export type Check = { ok: true } | { ok: false; reason: string };

// One key per secret and isolate: importKey costs more than the HMAC of a short string.
let cachedKey: { secret: string; key: Promise<CryptoKey> } | null = null;

function hmacKey(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    const key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

/** Hex HMAC-SHA256 of `message` under `secret`, as every Pusher SDK signs. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return toHex(new Uint8Array(mac));
}

/**
 * True when `signatureHex` is the HMAC-SHA256 of `message` under `secret`. WebCrypto's verify
 * compares in constant time; a signature that is not 64 hex digits is simply false.
 */
export async function verifyHmacHex(secret: string, message: string, signatureHex: string): Promise<boolean> {
  const signature = fromHex(signatureHex);
  if (!signature || signature.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
}

/**
 * Checks a subscription's `auth`: `<key>:<hex HMAC(secret, "socket_id:channel[:channel_data]")>`.
 * @example await verifyChannelAuth({ key, secret, socketId: "1234.1234", channel: "private-foobar", auth })
 */
export async function verifyChannelAuth(args: {
  key: string;
  secret: string;
  socketId: string;
  channel: string;
  auth: string | undefined;
  channelData?: string;
}): Promise<Check> {
  const parts = [args.socketId, args.channel];
  if (args.channelData !== undefined) parts.push(args.channelData);
  return verifyAuth(args.key, args.secret, parts.join(":"), args.auth);
}

/**
 * Checks a `pusher:signin`'s `auth`: `<key>:<hex HMAC(secret, "socket_id::user::user_data")>`.
 * @example await verifySigninAuth({ key, secret, socketId, userData: '{"id":"12345"}', auth })
 */
export async function verifySigninAuth(args: {
  key: string;
  secret: string;
  socketId: string;
  userData: string;
  auth: string;
}): Promise<Check> {
  return verifyAuth(args.key, args.secret, `${args.socketId}::user::${args.userData}`, args.auth);
}

async function verifyAuth(key: string, secret: string, signed: string, auth: string | undefined): Promise<Check> {
  if (!auth) return { ok: false, reason: "auth signature required" };
  const colon = auth.indexOf(":");
  if (colon < 0) return { ok: false, reason: "auth must be <key>:<signature>" };
  if (auth.slice(0, colon) !== key) return { ok: false, reason: "auth key is not this app's key" };
  if (!(await verifyHmacHex(secret, signed, auth.slice(colon + 1)))) {
    return { ok: false, reason: "invalid signature" };
  }
  return { ok: true };
}

/** A signed-in user, from `pusher:signin`'s user_data. */
export interface SigninUser {
  /** An edgepush uid: the user's `#server-to-user-<id>` channel is the room `uid:<id>`. */
  id: string;
  userInfo?: unknown;
  watchlist?: string[];
}

/**
 * Validates signin user_data: a JSON object with a non-empty string `id` (pusher-js itself drops
 * a signin whose id is not one), an optional `user_info`, an optional `watchlist` of user ids.
 * The id must also be a valid edgepush uid, so that the user and the uid are one room.
 */
export function parseUserData(userData: string): { ok: true; user: SigninUser } | { ok: false; reason: string } {
  const value = parseObject(userData);
  if (!value) return { ok: false, reason: "user_data must be a JSON-encoded object" };
  if (typeof value.id !== "string" || value.id === "") {
    return { ok: false, reason: 'user_data must contain an "id", a non-empty string' };
  }
  if (!isName(value.id)) return { ok: false, reason: "user_data id must be 1-128 chars of [A-Za-z0-9_.:@-]" };
  const user: SigninUser = { id: value.id };
  if (value.user_info !== undefined) user.userInfo = value.user_info;
  if (value.watchlist !== undefined) {
    if (!Array.isArray(value.watchlist) || !value.watchlist.every((w) => typeof w === "string")) {
      return { ok: false, reason: "user_data watchlist must be an array of user ids" };
    }
    user.watchlist = value.watchlist;
  }
  return { ok: true, user };
}

/** A presence subscriber, from `pusher:subscribe`'s channel_data. */
export interface PresenceData {
  userId: string;
  userInfo?: unknown;
}

/**
 * Validates presence channel_data: a JSON object with `user_id` (a string, or a number as
 * Laravel and the docs' own example send it: taken as its decimal text) of at most 128 chars,
 * and an optional `user_info` of at most 1 KB of JSON.
 * @example parsePresenceData('{"user_id":10,"user_info":{"name":"Mr. Channels"}}')
 */
export function parsePresenceData(
  channelData: string | undefined,
): { ok: true; member: PresenceData } | { ok: false; reason: string } {
  if (channelData === undefined) return { ok: false, reason: "presence channels need channel_data" };
  const value = parseObject(channelData);
  if (!value) return { ok: false, reason: "channel_data must be a JSON-encoded object" };
  const raw = value.user_id;
  const userId = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof userId !== "string" || userId === "" || userId.length > MAX_USER_ID_LENGTH) {
    return { ok: false, reason: `channel_data user_id must be a string of 1-${MAX_USER_ID_LENGTH} chars` };
  }
  if (value.user_info === undefined) return { ok: true, member: { userId } };
  if (utf8Length(JSON.stringify(value.user_info)) > MAX_USER_INFO_BYTES) {
    return { ok: false, reason: `channel_data user_info is over ${MAX_USER_INFO_BYTES} bytes` };
  }
  return { ok: true, member: { userId, userInfo: value.user_info } };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    return isObject ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
