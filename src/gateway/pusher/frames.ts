/**
 * Pusher protocol 7 frames: client text frames parsed into a tagged union, and an encoder for
 * every server frame. Pure: no Workers or Node APIs. Shapes from Pusher's protocol reference
 * (library_auth_reference/pusher-websockets-protocol.md) and what pusher-js 8 reads
 * (core/connection/protocol/protocol.ts decodeMessage: a string `data` is JSON-parsed if it can be).
 */
import { utf8Length } from "../../util/text";

/** Close codes and in-band error codes, as the protocol reference lists them ("Error Codes"). */
export const PUSHER_CODES = {
  /** 4000-4099: do not reconnect unchanged (pusher-js: 4000 = retry with TLS, others: give up). */
  TLS_ONLY: 4000,
  APP_NOT_FOUND: 4001,
  APP_DISABLED: 4003,
  OVER_CONNECTION_QUOTA: 4004,
  PATH_NOT_FOUND: 4005,
  INVALID_VERSION: 4006,
  UNSUPPORTED_PROTOCOL: 4007,
  NO_PROTOCOL: 4008,
  UNAUTHORIZED: 4009,
  /** 4100-4199: reconnect after backing off (pusher-js: 1 s). */
  OVER_CAPACITY: 4100,
  /** 4200-4299: reconnect immediately. */
  RECONNECT: 4200,
  PONG_NOT_RECEIVED: 4201,
  CLOSED_AFTER_INACTIVITY: 4202,
  /** 4300-4399: other errors (pusher-js treats a close with one of these as "refused"). */
  CLIENT_EVENT_RATE_LIMIT: 4301,
  WATCHLIST_LIMIT: 4302,
} as const;

/** Pusher's default event data limit (rest-api.md: "limited to 10KB"). */
export const DEFAULT_MAX_EVENT_BYTES = 10 * 1024;
/** Event names: the server SDKs refuse names over 200 chars (pusher-http-node lib/pusher.js). */
export const MAX_EVENT_NAME_LENGTH = 200;
export const CLIENT_EVENT_PREFIX = "client-";

/** A client frame, by `event`. Fields are checked for type only; names are the caller's job. */
export type ClientFrame =
  | { type: "ping" }
  | { type: "pong" }
  | { type: "subscribe"; channel: string; auth?: string; channelData?: string }
  | { type: "unsubscribe"; channel: string }
  | { type: "signin"; auth: string; userData: string }
  /** `data` is the text to relay: a string as sent, anything else as its JSON text. */
  | { type: "client-event"; event: string; channel: string; data: string };

/** Why a frame was refused: send it as `pusher:error`; the socket stays open. */
export interface FrameError {
  /** Null where Pusher documents no code (its own server sends `"code":null` then). */
  code: number | null;
  message: string;
}

export type FrameResult = { ok: true; frame: ClientFrame } | { ok: false; error: FrameError };

/**
 * Parses one client text frame.
 * @example parseClientFrame('{"event":"pusher:subscribe","data":{"channel":"orders"}}')
 * // { ok: true, frame: { type: "subscribe", channel: "orders" } }
 */
export function parseClientFrame(text: string, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): FrameResult {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return refuse("frame is not JSON");
  }
  if (!isRecord(message) || typeof message.event !== "string") {
    return refuse('frame must be a JSON object with a string "event"');
  }
  const { event } = message;
  if (event.startsWith(CLIENT_EVENT_PREFIX)) return parseClientEvent(event, message, maxEventBytes);
  // pusher-js sends `data` as an object; other clients send it JSON-encoded: take either.
  const data = typeof message.data === "string" ? parseOrNull(message.data) : message.data;
  switch (event) {
    case "pusher:ping":
      return accept({ type: "ping" });
    case "pusher:pong":
      return accept({ type: "pong" });
    case "pusher:subscribe":
      return parseSubscribe(data);
    case "pusher:unsubscribe":
      return isRecord(data) && typeof data.channel === "string"
        ? accept({ type: "unsubscribe", channel: data.channel })
        : refuse('pusher:unsubscribe needs data.channel, a string');
    case "pusher:signin":
      return isRecord(data) && typeof data.auth === "string" && typeof data.user_data === "string"
        ? accept({ type: "signin", auth: data.auth, userData: data.user_data })
        : refuse("pusher:signin needs data.auth and data.user_data, both strings");
    default:
      return refuse(`unsupported event ${JSON.stringify(event.slice(0, 64))}: client events must start with client-`);
  }
}

function parseSubscribe(data: unknown): FrameResult {
  if (!isRecord(data) || typeof data.channel !== "string") {
    return refuse("pusher:subscribe needs data.channel, a string");
  }
  const { channel, auth, channel_data: channelData } = data;
  if (auth !== undefined && auth !== null && typeof auth !== "string") {
    return refuse("pusher:subscribe data.auth must be a string");
  }
  if (channelData !== undefined && channelData !== null && typeof channelData !== "string") {
    return refuse("pusher:subscribe data.channel_data must be a JSON-encoded string");
  }
  const frame: ClientFrame = { type: "subscribe", channel };
  // pusher-js sends `auth: ""` for public channels: treat it as no auth.
  if (auth) frame.auth = auth;
  if (channelData) frame.channelData = channelData;
  return accept(frame);
}

function parseClientEvent(event: string, message: Record<string, unknown>, maxBytes: number): FrameResult {
  if (event.length > MAX_EVENT_NAME_LENGTH) {
    return refuse(`event name is over ${MAX_EVENT_NAME_LENGTH} characters`);
  }
  if (typeof message.channel !== "string") return refuse("a client event needs a string channel");
  const raw = message.data;
  const data = typeof raw === "string" ? raw : JSON.stringify(raw ?? null);
  if (utf8Length(data) > maxBytes) return refuse(`event data is over ${maxBytes} bytes`);
  return accept({ type: "client-event", event, channel: message.channel, data });
}

function accept(frame: ClientFrame): FrameResult {
  return { ok: true, frame };
}

function refuse(message: string, code: number | null = null): FrameResult {
  return { ok: false, error: { code, message } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---- Server frames -------------------------------------------------------------------------

/** A presence member as the room keeps it: one per user_id. */
export interface PresenceMember {
  userId: string;
  /** Whatever the app's channel_data gave as user_info; omitted when it gave none. */
  userInfo?: unknown;
}

/**
 * `pusher:connection_established`; `data` is a JSON *string* (pusher-js reads socket_id and
 * activity_timeout in seconds from it, and refuses the handshake without activity_timeout).
 * @example connectionEstablished("3.1234567890123456", 120)
 */
export function connectionEstablished(socketId: string, activityTimeoutS: number): string {
  const data = JSON.stringify({ socket_id: socketId, activity_timeout: activityTimeoutS });
  return JSON.stringify({ event: "pusher:connection_established", data });
}

/**
 * `pusher:ping`: the server checks an idle client is alive (it must answer `pusher:pong`). The
 * same bytes as pusher-js's own ping, so `pingFrame()` → `pongFrame()` can be a hibernation
 * auto-response pair that answers clients without waking the gateway.
 */
export function pingFrame(): string {
  return '{"event":"pusher:ping","data":{}}';
}

/** `pusher:pong`: the answer to a client's `pusher:ping`. */
export function pongFrame(): string {
  return '{"event":"pusher:pong","data":{}}';
}

/**
 * `pusher:error` with `data: {code, message}` (an object, as the reference shows it). Without
 * a channel it reaches pusher-js's connection "error" listeners; it closes nothing.
 */
export function errorFrame(code: number | null, message: string): string {
  return JSON.stringify({ event: "pusher:error", data: { code, message } });
}

/**
 * `pusher_internal:subscription_succeeded`. For a presence channel `data` is a JSON string of
 * `{presence: {ids, hash, count}}` (pusher-js Members.onSubscription reads presence.hash and
 * presence.count); otherwise `"{}"`.
 */
export function subscriptionSucceeded(channel: string, members?: readonly PresenceMember[]): string {
  let data = "{}";
  if (members) {
    const hash: Record<string, unknown> = {};
    for (const m of members) hash[m.userId] = m.userInfo ?? null;
    const ids = Object.keys(hash);
    data = JSON.stringify({ presence: { ids, hash, count: ids.length } });
  }
  return JSON.stringify({ event: "pusher_internal:subscription_succeeded", channel, data });
}

/** What a refused subscription says: pusher-js emits it on the channel as it is. */
export interface SubscriptionErrorData {
  /** "AuthError" for a bad or missing signature; pusher-js uses the same word for its own. */
  type: string;
  error: string;
  /** An HTTP-like status: pusher-js's own auth failures carry the auth endpoint's status. */
  status: number;
}

/**
 * `pusher:subscription_error` on the channel: Laravel Echo's `.error(cb)` and
 * `channel.bind("pusher:subscription_error", cb)` get `data` as it is.
 * @example subscriptionError("private-a", { type: "AuthError", error: "invalid signature", status: 401 })
 */
export function subscriptionError(channel: string, data: SubscriptionErrorData): string {
  return JSON.stringify({ event: "pusher:subscription_error", channel, data });
}

/** `pusher_internal:member_added`: data is a JSON string of `{user_id, user_info}`. */
export function memberAdded(channel: string, member: PresenceMember): string {
  const data = JSON.stringify({ user_id: member.userId, user_info: member.userInfo });
  return JSON.stringify({ event: "pusher_internal:member_added", channel, data });
}

/** `pusher_internal:member_removed`: data is a JSON string of `{user_id}`. */
export function memberRemoved(channel: string, userId: string): string {
  const data = JSON.stringify({ user_id: userId });
  return JSON.stringify({ event: "pusher_internal:member_removed", channel, data });
}

/** `pusher:cache_miss`: a cache channel had no last event for the new subscriber. */
export function cacheMiss(channel: string): string {
  return JSON.stringify({ event: "pusher:cache_miss", channel });
}

/**
 * `pusher:signin_success` with `data: {user_data}`, the exact user_data string the client sent
 * (pusher-js JSON-parses it and needs a non-empty string `id`).
 */
export function signinSuccess(userData: string): string {
  return JSON.stringify({ event: "pusher:signin_success", data: { user_data: userData } });
}

/**
 * A channel event. `data` is sent as a string (pusher-js parses it when it is JSON); `userId`
 * only for client events on presence channels.
 * @example eventFrame("orders", "OrderShipped", '{"id":1}')
 */
export function eventFrame(channel: string, event: string, data: string, userId?: string): string {
  const frame = userId === undefined ? { event, channel, data } : { event, channel, data, user_id: userId };
  return JSON.stringify(frame);
}
