/**
 * Pusher Channels protocol 7 on a gateway connection: connection_established, subscriptions
 * with their signatures, presence, cache channels, client events and user sign-in. The codecs
 * are in frames.ts, channels.ts and auth.ts; this file decides what each frame does.
 */
import { roomName } from "../../contract/names";
import { textMessage } from "../../contract/protocol";
import { readLimits } from "../../env";
import { RateLimiter } from "../../room/rate-limit";
import type { GatewayHost, ProtocolHandler } from "../protocol";
import type { GatewayAttachment, Subscription } from "../types";
import { parsePresenceData, parseUserData, verifyChannelAuth, verifySigninAuth } from "./auth";
import { allowsClientEvents, channelRoom, classifyChannel, needsAuth, roomChannel, type ChannelInfo } from "./channels";
import {
  PUSHER_CODES, cacheMiss, connectionEstablished, errorFrame, eventFrame, memberAdded, memberRemoved,
  parseClientFrame, pongFrame, signinSuccess, subscriptionError, subscriptionSucceeded, type ClientFrame,
} from "./frames";

/** pusher-js's ping, byte for byte: the runtime answers it without waking the gateway. */
export const PUSHER_PING = '{"event":"pusher:ping","data":{}}';
export const PUSHER_PONG = '{"event":"pusher:pong","data":{}}';
/** Seconds of silence after which either side pings (pusher-js takes the lower of this and its own). */
const ACTIVITY_TIMEOUT_S = 120;

/** `PUSHER_ACTIVITY_TIMEOUT_S` (5–3600, default 120); a bad value falls back to the default. */
export function activityTimeoutS(env: { PUSHER_ACTIVITY_TIMEOUT_S?: string }): number {
  const n = Number(env.PUSHER_ACTIVITY_TIMEOUT_S ?? ACTIVITY_TIMEOUT_S);
  return Number.isInteger(n) && n >= 5 && n <= 3600 ? n : ACTIVITY_TIMEOUT_S;
}
/** Pusher: at most 10 client events per second per connection. */
const CLIENT_EVENTS_PER_S = 10;
// Client-event windows per socket; a wake forgets them, which only forgives.
const clientEventRates = new RateLimiter<WebSocket>(CLIENT_EVENTS_PER_S, 1000);

export const pusherHandler: ProtocolHandler = {
  opened(host, ws, attachment) {
    host.send(ws, connectionEstablished(attachment.id, activityTimeoutS(host.env)));
  },

  async message(host, ws, attachment, text) {
    const parsed = parseClientFrame(text, readLimits(host.env).maxPayloadBytes);
    if (!parsed.ok) return void host.send(ws, errorFrame(parsed.error.code, parsed.error.message));
    await handle(host, ws, attachment, parsed.frame);
  },

  frame(attachment, sub, item) {
    const { message } = item;
    const channel = sub ? (sub.channel ?? roomChannel(sub.room)) : null;
    // A room whose name is no channel (a native `a:b` group) has nothing to say to Pusher clients.
    if (sub && channel === null) return null;
    const event = message.event ?? "push";
    // `all` and clientId pushes have no channel: pusher-js hands them to `pusher.bind(event, …)`.
    if (channel === null) return JSON.stringify({ event, data: message.raw });
    return eventFrame(channel, event, message.raw, message.userId);
  },

  memberFrame(sub, added, member) {
    if (!sub.member || !sub.channel) return null;
    if (!added) return memberRemoved(sub.channel, member.id);
    return memberAdded(sub.channel, { userId: member.id, userInfo: JSON.parse(member.info) as unknown });
  },

  // Pusher clients read `pusher:error` (pusher-js emits it as an "error" event), never edgepush's error frame.
  refusal(_attachment, _code, message) {
    return errorFrame(null, message);
  },

  // soketi's terminate_connections: `pusher:error` with the code, then the close; clients that
  // ignore close codes (old drafts, protocol < 6) learn why from the frame.
  closeFrame(code, reason) {
    return code >= 4000 && code < 5000 ? errorFrame(code, reason) : null;
  },
};

async function handle(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, frame: ClientFrame): Promise<void> {
  switch (frame.type) {
    case "ping":
      return void host.send(ws, pongFrame());
    case "pong":
      return;
    case "subscribe":
      return subscribe(host, ws, attachment, frame.channel, frame.auth, frame.channelData);
    case "unsubscribe": {
      const room = channelRoom(frame.channel);
      // The user channel is the sign-in's: it ends with the connection.
      if (room && !room.startsWith("uid:")) await host.unsubscribe(ws, room);
      return;
    }
    case "signin":
      return signin(host, ws, attachment, frame.auth, frame.userData);
    case "client-event":
      return clientEvent(host, ws, attachment, frame);
  }
}

async function subscribe(
  host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, name: string, auth?: string, channelData?: string,
): Promise<void> {
  const classified = classifyChannel(name);
  if (!classified.ok) return void host.send(ws, subscriptionError(name, { type: "InvalidChannel", error: classified.reason, status: 400 }));
  const channel = classified.channel;
  if (channel.kind === "user") {
    if (attachment.uid !== channel.userId) {
      return void host.send(ws, subscriptionError(name, { type: "AuthError", error: "sign in as this user first (pusher:signin)", status: 403 }));
    }
    return void host.send(ws, subscriptionSucceeded(name));
  }
  const refused = await authorize(host, attachment, channel, auth, channelData);
  if (refused) return void host.send(ws, subscriptionError(name, { type: "AuthError", error: refused, status: 401 }));
  const sub: Subscription = { room: roomName("group", name), channel: name };
  if (channel.kind === "presence") {
    const presence = parsePresenceData(channelData);
    if (!presence.ok) return void host.send(ws, subscriptionError(name, { type: "AuthError", error: presence.reason, status: 400 }));
    sub.member = { id: presence.member.userId, info: JSON.stringify(presence.member.userInfo ?? null) };
  }
  let result;
  try {
    result = await host.subscribe(ws, sub);
  } catch (err) {
    const error = err instanceof RangeError ? err.message : "the channel did not answer; retry";
    return void host.send(ws, subscriptionError(name, { type: "ServerError", error, status: err instanceof RangeError ? 413 : 503 }));
  }
  const members = result.members?.map((m) => ({ userId: m.id, userInfo: JSON.parse(m.info) as unknown }));
  host.send(ws, subscriptionSucceeded(name, channel.kind === "presence" ? members ?? [] : undefined));
  if (!channel.cache) return;
  if (!result.last) return void host.send(ws, cacheMiss(name));
  host.send(ws, eventFrame(name, result.last.message.event ?? "push", result.last.message.raw));
}

/** Null when the subscription is allowed, else why not. */
async function authorize(
  host: GatewayHost, attachment: GatewayAttachment, channel: ChannelInfo, auth?: string, channelData?: string,
): Promise<string | null> {
  if (!needsAuth(channel.kind)) return null;
  const { PUSHER_APP_KEY: key, PUSHER_APP_SECRET: secret } = host.env;
  if (!key || !secret) return "PUSHER_APP_KEY / PUSHER_APP_SECRET are not set";
  const check = await verifyChannelAuth({
    key, secret, socketId: attachment.id, channel: channel.name, auth,
    channelData: channel.kind === "presence" ? channelData : undefined,
  });
  return check.ok ? null : check.reason;
}

async function signin(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, auth: string, userData: string): Promise<void> {
  const { PUSHER_APP_KEY: key, PUSHER_APP_SECRET: secret } = host.env;
  const check = key && secret ? await verifySigninAuth({ key, secret, socketId: attachment.id, userData, auth }) : null;
  const user = parseUserData(userData);
  if (!check?.ok || !user.ok) {
    const why = !check ? "PUSHER_APP_KEY / PUSHER_APP_SECRET are not set" : !check.ok ? check.reason : !user.ok ? user.reason : "";
    return void host.send(ws, errorFrame(PUSHER_CODES.UNAUTHORIZED, `signin refused: ${why}`));
  }
  try {
    await host.bind(ws, user.user.id, userData);
  } catch {
    return void host.send(ws, errorFrame(null, "signin failed: the user's room did not answer; retry"));
  }
  host.send(ws, signinSuccess(userData));
}

async function clientEvent(
  host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, frame: Extract<ClientFrame, { type: "client-event" }>,
): Promise<void> {
  const classified = classifyChannel(frame.channel);
  if (!classified.ok || !allowsClientEvents(classified.channel.kind)) {
    return void host.send(ws, errorFrame(null, "client events are only allowed on private and presence channels"));
  }
  const room = roomName("group", frame.channel);
  const sub = host.connections.subscription(ws, room);
  if (!sub) return void host.send(ws, errorFrame(null, `subscribe to ${frame.channel} before sending client events on it`));
  const verdict = clientEventRates.hit(ws, Date.now());
  if (verdict === "close") return host.closeSocket(ws, PUSHER_CODES.CLIENT_EVENT_RATE_LIMIT, "client event rate limit exceeded");
  if (verdict === "warn") {
    return void host.send(ws, errorFrame(PUSHER_CODES.CLIENT_EVENT_RATE_LIMIT, `at most ${CLIENT_EVENTS_PER_S} client events per second`));
  }
  const message = textMessage(frame.data, frame.event);
  if (sub.member) message.userId = sub.member.id;
  await host.clientEvent(ws, room, message);
  host.tellBackend(ws, parsedOr(frame.data), { group: frame.channel, event: frame.event });
}

function parsedOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
