/** Shapes of the edgepush HTTP API as the SDK sees them (README: "HTTP API reference"). */

/** Options common to every message. */
export interface SendOptions {
  /**
   * Message id. A repeat of an id the target already accepted within 24 h is not delivered
   * again. The SDK generates one when you leave it out, so its retries are always safe.
   */
  id?: string;
  /** Seconds the message stays in the room's log for replay and offline delivery; 0 = live only. */
  ttl?: number;
}

/** Options of a group push. */
export interface GroupSendOptions extends SendOptions {
  /** clientIds (from a client's `init` frame) that must not receive this message. */
  exclude?: string[];
}

/** Exactly one target per message, as in `POST /push`. */
export type Target =
  | { uid: string }
  | { uids: string[] }
  | { group: string; exclude?: string[] }
  | { groups: string[]; exclude?: string[] }
  | { all: true }
  | { clientId: string };

/** One message of `POST /push`: a target, a JSON payload and the optional id and ttl. */
export type PushMessage = Target & SendOptions & { data: unknown };

/** Answer to an accepted message. */
export interface PushResult {
  ok: true;
  /** The message id (yours or the SDK's). */
  id: string;
  /** Sockets the message was handed to. */
  delivered: number;
  /** Rooms that logged it for replay or offline delivery. */
  queued: number;
  /** True when the id had already been accepted for this target: nothing was sent again. */
  duplicate?: true;
}

/** A batch item that the server refused; the other items of the batch still went out. */
export interface PushFailure {
  ok: false;
  error: { code: string; message: string };
}

export type BatchItemResult = PushResult | PushFailure;

/** `GET /online/:uid`. */
export interface Presence {
  uid: string;
  online: boolean;
  connections: number;
}

/** `GET /groups/:group`. */
export interface GroupPresence {
  group: string;
  connections: number;
  uids: string[];
}

/** A page of `GET /uids` or `GET /groups`, in name order. */
export interface ListOptions {
  /** At most this many names (1-1000; default 1000). */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

/** `GET /uids`: online uids; `cursor` is null on the last page. */
export interface UidPage {
  uids: string[];
  cursor: string | null;
}

/** `GET /groups`: groups with live sockets; `cursor` is null on the last page. */
export interface GroupPage {
  groups: string[];
  cursor: string | null;
}

/** `GET /stats`: totals across the deployment. */
export interface Stats {
  connections: number;
  rooms: number;
  uids: number;
  groups: number;
}

/** A client token for `GET /ws?token=…`. */
export interface ClientToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** What `signClientToken` puts in a token. */
export interface ClientTokenClaims {
  uid: string;
  /** Groups the client may join (`/ws?group=…`). */
  groups?: string[];
  /** Seconds the token is valid; default 3600. */
  ttl?: number;
}

/** `POST /groups/:group/members`: `notified` live clients of the uid got the `join` frame. */
export interface GrantResult {
  ok: true;
  uid: string;
  group: string;
  notified: number;
}

/** `DELETE /groups/:group/members/:uid`: `closed` sockets of the uid in that group (code 4001). */
export interface RevokeResult {
  ok: true;
  uid: string;
  group: string;
  closed: number;
}

/** `POST /kick`: `closed` sockets (code 4000). */
export interface KickResult {
  ok: true;
  uid?: string;
  clientId?: string;
  closed: number;
}
