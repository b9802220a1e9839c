/** What a gateway offers the protocol it carries, and what each protocol must provide. */
import type { RoomName } from "../contract/names";
import type { ClientErrorCode, OutboundMessage } from "../contract/protocol";
import type { Env } from "../env";
import type { Connections } from "./connections";
import type { GatewayAttachment, GatewayItem, Subscription, TrackReplay, TrackResult } from "./types";

/** The gateway's services, as a protocol handler sees them. */
export interface GatewayHost {
  readonly env: Env;
  readonly connections: Connections;
  /**
   * Subscribes `ws` to `sub.room` (index, attachment, then the room); throws when the room refuses.
   * With `replay`, the room's rows are sent to `ws` before any live message of the room.
   */
  subscribe(ws: WebSocket, sub: Subscription, replay?: TrackReplay): Promise<TrackResult>;
  /** Unsubscribes `ws` from `room`; false when it was not subscribed. */
  unsubscribe(ws: WebSocket, room: RoomName): Promise<boolean>;
  /** Binds `ws` to a uid (its uid room included) or, with null, unbinds it. */
  bind(ws: WebSocket, uid: string | null, userData?: string): Promise<void>;
  /** A message from `ws` to everyone else in `room` (Pusher client events). */
  clientEvent(ws: WebSocket, room: RoomName, message: OutboundMessage): Promise<void>;
  /** A message for the backend (a `{"type":"message"}` frame, or a Pusher client event on `channel`). */
  tellBackend(ws: WebSocket, data: unknown, channel?: { group: string; event: string }): void;
  send(ws: WebSocket, text: string): boolean;
  /**
   * Tells `ws`, in its protocol, that a frame of it was refused (a raw GatewayWorker page is told
   * nothing and the log says why); at most ANSWERS_PER_WINDOW times per budget window.
   */
  refuse(ws: WebSocket, attachment: GatewayAttachment, code: ClientErrorCode, message: string): void;
  closeSocket(ws: WebSocket, code: number, reason: string): void;
}

/** One protocol's codec and behaviour on a gateway connection. */
export interface ProtocolHandler {
  /** Sends the connection's first frames. */
  opened(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment): void;
  /** Handles a text frame from the client. */
  message(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, text: string): Promise<void>;
  /** The frame a subscriber gets for a room's message (`sub` null: an `all` or clientId push); null skips it. */
  frame(attachment: GatewayAttachment, sub: Subscription | null, item: GatewayItem): string | null;
  /** Called once a subscription is in place (before a replay's rows): e.g. tell the client. */
  subscribed?(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, sub: Subscription, result: TrackResult): void;
  /** Called once a subscription is gone (not when the socket closed). */
  unsubscribed?(host: GatewayHost, ws: WebSocket, attachment: GatewayAttachment, room: RoomName): void;
  /** Presence changes in a room this connection subscribes to; null when it has nothing to say. */
  memberFrame?(sub: Subscription, added: boolean, member: { id: string; info: string }): string | null;
  /**
   * The frame telling this connection that the gateway refused a frame of it (over the frame
   * budget, binary), in its protocol; null to say nothing (a raw GatewayWorker page).
   */
  refusal(attachment: GatewayAttachment, code: ClientErrorCode, message: string): string | null;
  /** The frame sent before the backend closes this connection with `code` (a Pusher `pusher:error`); null for none. */
  closeFrame?(code: number, reason: string): string | null;
}
