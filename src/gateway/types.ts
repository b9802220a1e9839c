/** Shapes shared by gateways, rooms and the Worker: attachments, subscriptions, RPC items. */
import type { GatewayName, RoomName } from "../contract/names";
import type { Format, OutboundMessage } from "../contract/protocol";

/** The protocols a gateway speaks: Pusher Channels 7, or GatewayWorker's client_id model. */
export type GatewayProtocol = "pusher" | "gateway";

/** One room a gateway connection receives from. */
export interface Subscription {
  room: RoomName;
  /** The Pusher channel name it was subscribed as (`presence-x`, `#server-to-user-u` …). */
  channel?: string;
  /** Presence channels: this connection's member (`user_id`, JSON text of `user_info`). */
  member?: { id: string; info: string };
}

/**
 * Per-connection data in the hibernation attachment (workerd limit: 16 KiB serialized, which
 * bounds the subscriptions a connection may hold; the session lives in SQLite, not here).
 */
export interface GatewayAttachment {
  id: string;
  protocol: GatewayProtocol;
  /** Bound uid (GatewayWorker) or signed-in user id (Pusher); null while anonymous. */
  uid: string | null;
  /** Pusher `pusher:signin` user_data text. */
  userData?: string;
  /** GatewayWorker connections: raw payloads (the default) or edgepush envelopes. */
  format: Format;
  subs: Subscription[];
  /** GatewayWorker connections: the groups its token allows (a client `join` frame may pick them). */
  grants?: string[];
  connectedAt: number;
}

/** Largest serialized attachment we store; workerd refuses more than 16 KiB. */
export const MAX_ATTACHMENT_BYTES = 15 * 1024;

/** A gateway subscriber as the room records it (one row per connection and room). */
export interface RemoteSubscriber {
  gateway: GatewayName;
  clientId: string;
  /** Bound uid, signed-in user, or presence user_id; "" when anonymous. */
  uid: string;
  /** Presence user_info JSON text. */
  info?: string;
}

/** A change a gateway reports to a room: a connection subscribed (`on`) or left. */
export interface TrackChange {
  clientId: string;
  uid: string;
  info?: string;
  on: boolean;
}

/**
 * A subscriber that also wants the room's log (edgepush's client library on `/gateway`): the rows
 * after `since`, or with null, a uid room's offline queue (as a `/ws` socket without `since` gets).
 */
export interface TrackReplay {
  since: number | null;
}

/** What a room answers a gateway that subscribed connections. */
export interface TrackResult {
  /** Presence channels: every member after the change, one per user_id. */
  members?: { id: string; info: string }[];
  /** Cache channels: the room's last event, or null on a miss. */
  last?: { seq: number; message: OutboundMessage } | null;
  /** The room's last seq, so a subscriber can tell replayed from live. */
  seq: number;
  /** With a replay: the logged rows to send before live messages, in order. */
  rows?: { seq: number; message: OutboundMessage }[];
}

/** One message a room hands a gateway for its subscribers of that room. */
export interface GatewayItem {
  seq: number;
  message: OutboundMessage;
  exclude?: string[];
}

/** A gateway's answer to a room's delivery; `subscribed: false` tells the room to forget it. */
export interface GatewayDeliverResult {
  /** Connections each item reached, in item order. */
  delivered: number[];
  subscribed: boolean;
}

/** A presence change a room asks gateways to announce to their subscribers of the channel. */
export interface MemberEvent {
  room: RoomName;
  added: boolean;
  member: { id: string; info: string };
}

/** What a gateway says of one of its connections. */
export interface ClientInfo {
  client_id: string;
  online: boolean;
  uid: string | null;
  groups: string[];
  session: Record<string, unknown> | null;
}

/** Headers the Worker sets on an upgrade it forwards to a gateway (never trusted from clients). */
export const GATEWAY_HEADER = {
  protocol: "x-edgepush-gw-protocol",
  shard: "x-edgepush-gw-shard",
  uid: "x-edgepush-uid",
  groups: "x-edgepush-groups",
  format: "x-edgepush-format",
  since: "x-edgepush-since",
  /** "0": the token's groups are only allowed (joined by `join` frames), not joined at connect. */
  autojoin: "x-edgepush-autojoin",
} as const;

/** A backend operation's outcome, as plain data (an RPC carries no ApiError class). */
export type OpResult = { ok: true } | { ok: false; status: 400 | 404 | 413 | 503; code: "bad_request" | "not_found" | "too_large" | "unavailable"; message: string };

/** Largest session a connection may hold, as JSON text (GatewayWorker keeps sessions per connection). */
export const MAX_SESSION_BYTES = 8 * 1024;
/** Deepest session (PHP's json_encode default depth, so whatever GatewayClient can send fits). */
export const MAX_SESSION_DEPTH = 512;
