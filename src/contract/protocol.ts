/** WebSocket frames between edgepush and its clients. Pure: no Workers or Node APIs. */

export const PING = "ping";
export const PONG = "pong";

/** Close codes of the contract (4000/4001) and the RFC 6455 ones we use. */
export const CLOSE_KICKED = 4000;
export const CLOSE_REMOVED_FROM_GROUP = 4001;
/** The connection's token expired: get a new one and reconnect (with `since`, so nothing is lost). */
export const CLOSE_TOKEN_EXPIRED = 4002;
/** The socket fell more than OUTBOUND_MAX_BYTES behind: reconnect with `since` and read the rest from the log. */
export const CLOSE_TOO_SLOW = 4003;
/** RFC 6455 "going away": what a socket silent past HEARTBEAT_TIMEOUT_S is closed with. */
export const CLOSE_HEARTBEAT = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL = 1011;

export type Format = "envelope" | "raw";

export interface InitFrame {
  type: "init";
  clientId: string;
  uid: string;
  room: string;
  seq: number;
}
export interface JoinFrame {
  type: "join";
  group: string;
  token: string;
}
export interface ErrorFrame {
  type: "error";
  code: ClientErrorCode;
  message: string;
}

export type ClientErrorCode = "bad_frame" | "unknown_type" | "not_allowed" | "binary_not_supported" | "rate_limited" | "unavailable"
  | "budget_exceeded";

/**
 * What a client may send besides `ping`: a publish to its group, or a message for the backend
 * (delivered as a `client_message` webhook, GatewayWorker's onMessage).
 */
export type ClientFrame =
  | { type: "publish"; data: unknown; echo: boolean }
  | { type: "message"; data: unknown }
  | { type: "ack"; bytes: number };

/**
 * The client library acknowledges what it read every this many characters (UTF-16 units of the
 * text frames it received after `init`, `pong` aside) with `{"type":"ack","bytes":<characters since its last ack>}`.
 */
export const ACK_EVERY_CHARS = 256 * 1024;

/** A message as it travels to a room: serialized once, sent to every socket as is. */
export interface OutboundMessage {
  id: string;
  /** JSON text of `data` in the envelope (a seed body's own text). */
  dataJson: string;
  /** What a `format=raw` or legacy socket receives, byte for byte. */
  raw: string;
  ts: number;
  /** The event name (Pusher's `event`; `POST /push`'s optional `event`); absent means `push`. */
  event?: string;
  /** A client event on a presence channel: the sender's user_id (Pusher adds it). */
  userId?: string;
}

/**
 * A message whose payload is text (a Pusher event's `data`): raw clients get the text, envelopes
 * its parsed value when it is JSON, else the string.
 * @example textMessage('{"id":7}', "OrderShipped").dataJson // '{"id":7}'
 */
export function textMessage(data: string, event?: string): OutboundMessage {
  let dataJson = data;
  try {
    JSON.parse(data);
  } catch {
    dataJson = JSON.stringify(data);
  }
  const message: OutboundMessage = { id: crypto.randomUUID(), dataJson, raw: data, ts: Date.now() };
  if (event !== undefined) message.event = event;
  return message;
}

/** The envelope text of a push; `dataJson` is spliced in so the payload is never re-serialized. */
export function envelope(seq: number, msg: OutboundMessage): string {
  const event = msg.event === undefined ? "" : `"event":${JSON.stringify(msg.event)},`;
  return `{"type":"push","seq":${seq},"id":${JSON.stringify(msg.id)},${event}"data":${msg.dataJson},"ts":${msg.ts}}`;
}

export function errorFrame(code: ClientErrorCode, message: string): string {
  return JSON.stringify({ type: "error", code, message } satisfies ErrorFrame);
}

/** Why a client frame was refused: an error frame's fields. */
export type FrameError = { error: ClientErrorCode; message: string };

/** A client text frame as a JSON object, or why it is not one (every socket kind reads frames so). */
export function readFrameObject(text: string): { frame: Record<string, unknown> } | FrameError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "bad_frame", message: "frame is not JSON (send `ping` or a JSON object)" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: "bad_frame", message: "frame must be a JSON object with a type" };
  }
  return { frame: value as Record<string, unknown> };
}

/** Parses a client text frame; returns an error frame's fields when it is not one we accept. */
export function parseClientFrame(text: string): ClientFrame | FrameError {
  const read = readFrameObject(text);
  if (!("frame" in read)) return read;
  const { frame } = read;
  if (frame.type === "ack") {
    const bytes = frame.bytes;
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) {
      return { error: "bad_frame", message: "ack needs bytes: a non-negative integer" };
    }
    return { type: "ack", bytes };
  }
  if (frame.type === "message") {
    if (!("data" in frame)) return { error: "bad_frame", message: "message needs data" };
    return { type: "message", data: frame.data };
  }
  if (frame.type !== "publish") {
    return { error: "unknown_type", message: `unknown frame type ${JSON.stringify(frame.type ?? null)}` };
  }
  if (!("data" in frame)) return { error: "bad_frame", message: "publish needs data" };
  if (frame.echo !== undefined && typeof frame.echo !== "boolean") {
    return { error: "bad_frame", message: "echo must be a boolean" };
  }
  return { type: "publish", data: frame.data, echo: frame.echo !== false };
}
