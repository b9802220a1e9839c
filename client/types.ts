/** Options and events of the client library. */
import type { BackoffOptions } from "./backoff";

/** Which room an event is about: a group's name, or null for the uid's own room. */
export type Group = string | null;

export interface EdgePushOptions {
  /**
   * Where edgepush runs: `https://push.example.com`, `ws://127.0.0.1:8787` or a full `…/ws` URL.
   * Default in a browser: the page's own origin.
   */
  url?: string;
  /**
   * Called before every connection attempt (tokens expire); `group` says which room the token is
   * for (null: the uid room). Return an HS256 client token, e.g. from your backend's `POST /token`.
   */
  getToken(context: { group: Group }): string | Promise<string>;
  /** Reconnect timing; see {@link BackoffOptions}. */
  backoff?: Partial<BackoffOptions>;
  /** How often (ms) an open socket sends `ping`. Default 25000. */
  pingInterval?: number;
  /** A socket that hears nothing this long (ms) after a `ping` is dropped and reconnected. Default 10000. */
  pongTimeout?: number;
  /**
   * `"rooms"` (default): one `/ws` socket per room. `"gateway"`: one `/gateway` socket for the uid
   * and every group (join/leave are frames on it, each room still resumed by its own seq).
   */
  transport?: "rooms" | "gateway";
  /** Join the groups the server grants (`{"type":"join"}` frames). Default true. */
  autoJoin?: boolean;
  /** A WebSocket implementation; default the global one (browsers, Node 22+). */
  WebSocket?: typeof WebSocket;
}

/** A room's socket is authenticated and live (the server's `init` frame). */
export interface OpenEvent {
  group: Group;
  /** `uid:<uid>` or `group:<group>`. */
  room: string;
  uid: string;
  clientId: string;
  /** The room's last seq when this connection opened. */
  seq: number;
  /** True when this connection resumed an earlier one (missed messages are replayed first). */
  resumed: boolean;
}

/** A push, de-duplicated by id. In a group, a client's publish arrives as `data = {from, data}`. */
export interface PushMessage {
  group: Group;
  room: string;
  seq: number;
  id: string;
  data: unknown;
  ts: number;
}

export interface CloseInfo {
  group: Group;
  code: number;
  reason: string;
  /** False after `leave`/`close`, a kick (4000) or a removal from the group (4001). */
  willReconnect: boolean;
}

/** An `error` frame from the server, or `token_failed` when `getToken` threw. */
export interface ErrorInfo {
  group: Group;
  code: string;
  message: string;
}

export interface ReconnectingInfo {
  group: Group;
  /** 1 for the first retry after a drop; back to 1 once a connection stayed up `stableAfter` ms. */
  attempt: number;
  /** ms until the attempt. */
  delay: number;
}

export interface EdgePushEvents {
  open: OpenEvent;
  message: PushMessage;
  close: CloseInfo;
  error: ErrorInfo;
  reconnecting: ReconnectingInfo;
}
