/**
 * The Pusher app of a deployment as its REST API sees it: the configuration, the signature check
 * every `/apps/<id>/…` request passes before anything else, and triggers turned into the push
 * plans `deliver()` sends (a channel is the room `group:<channel>`, `#server-to-user-<id>` is
 * `uid:<id>`: one namespace with `POST /push`).
 */
import { ApiError } from "../contract/errors";
import type { RoomName } from "../contract/names";
import { textMessage } from "../contract/protocol";
import { roomStub, type Env } from "../env";
import { channelRoom, isCacheChannel } from "../gateway/pusher/channels";
import { verifyRestRequest } from "../gateway/pusher/rest-auth";
import type { InfoAttribute, TriggerEvent } from "../gateway/pusher/rest-schema";
import { logEvent } from "../util/log";
import { readBodyText, requireJsonType, type AppContext } from "./http";
import { checkPayload, type PushPlan } from "./push-schema";

/** The one Pusher app of a deployment (`PUSHER_APP_ID`, `PUSHER_APP_KEY`, `PUSHER_APP_SECRET`). */
export interface PusherApp {
  id: string;
  key: string;
  secret: string;
}

const VARIABLES = ["PUSHER_APP_ID", "PUSHER_APP_KEY", "PUSHER_APP_SECRET"] as const;

/** The app's settings, or a 500 `misconfigured` naming every variable that is not set. */
export function requirePusherApp(env: Env): PusherApp {
  const missing = VARIABLES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ApiError(500, "misconfigured",
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set: run \`wrangler secret put ${missing[0]}\` (or add ${missing.length === 1 ? "it" : "them"} to .dev.vars)`);
  }
  return { id: env.PUSHER_APP_ID!, key: env.PUSHER_APP_KEY!, secret: env.PUSHER_APP_SECRET! };
}

/**
 * Checks a REST request as Pusher does (app id, `auth_key`, `auth_timestamp` within 600 s,
 * `body_md5`, `auth_signature`) and answers its body's exact text. Nothing is parsed, let alone
 * delivered, before the signature holds: a refusal is a 401 saying which check failed.
 */
export async function signedRequest(c: AppContext, maxBodyBytes: number): Promise<string> {
  const app = requirePusherApp(c.env);
  const id = c.req.param("id");
  if (id !== app.id) throw new ApiError(404, "not_found", `no Pusher app ${JSON.stringify(id)} here (PUSHER_APP_ID)`);
  const body = c.req.method === "GET" ? "" : await readBodyText(c.req.raw, maxBodyBytes);
  const url = new URL(c.req.url);
  const check = await verifyRestRequest({ method: c.req.method, path: url.pathname, query: url.search, body }, app);
  if (!check.ok) {
    logEvent("pusher_rest_refused", { path: url.pathname, reason: check.reason });
    throw new ApiError(401, "unauthorized", `Pusher signature refused: ${check.reason}`);
  }
  if (body !== "") requireJsonType(c);
  return body;
}

/** "The cache … remembers the last triggered event" for "up to 30 minutes" (cache-channels.md). */
export const CACHE_TTL_S = 30 * 60;

/**
 * The push plans of one trigger: every channel's room, the trigger's `socket_id` excluded; cache
 * channels' rooms keep it for Pusher's 30 minutes, the others for their room's default. Native
 * sockets get `data` parsed when it is JSON (the envelope's `data`), raw ones its text.
 */
export function triggerPlans(event: TriggerEvent, maxPayloadBytes: number): PushPlan[] {
  checkPayload(event.data, maxPayloadBytes);
  const message = textMessage(event.data, event.name);
  const exclude = event.socketId ? [event.socketId] : [];
  const plan = (targets: RoomName[], ttl?: number): PushPlan => ({ rooms: targets, all: false, exclude, ttl, givenId: false, message });
  const rooms = (cache: boolean) =>
    [...new Set(event.channels.filter((name) => isCacheChannel(name) === cache).map((name) => channelRoom(name)!))];
  const [plain, cached] = [rooms(false), rooms(true)];
  return [...(plain.length > 0 ? [plan(plain)] : []), ...(cached.length > 0 ? [plan(cached, CACHE_TTL_S)] : [])];
}

/** What `info` can tell of one channel. */
export interface ChannelAttributes {
  occupied: boolean;
  user_count?: number;
  subscription_count?: number;
}

/**
 * One channel's state from its room (one RPC): `subscription_count` = the room's connections
 * (its own sockets and gateway subscribers), `user_count` = distinct users (presence channels).
 * Attributes that do not apply to the channel are left out, as in Pusher's trigger answers.
 */
export async function channelAttributes(env: Env, channel: string, info: readonly InfoAttribute[]): Promise<ChannelAttributes> {
  const room = channelRoom(channel) as RoomName;
  const { connections, uids } = await roomStub(env, room).presence();
  const out: ChannelAttributes = { occupied: connections > 0 };
  if (info.includes("user_count") && channel.startsWith("presence-")) out.user_count = uids.length;
  if (info.includes("subscription_count")) out.subscription_count = connections;
  return out;
}

/** `{occupied, …}` without `occupied`: the per-channel hash of trigger and listing answers. */
export function withoutOccupied(attributes: ChannelAttributes): Omit<ChannelAttributes, "occupied"> {
  const { occupied: _occupied, ...rest } = attributes;
  return rest;
}
