/**
 * What a `/gateway` client may send: the frames edgepush's client library uses to hold one
 * socket for many groups (`join`, `leave`, `publish`), `message` for the backend, and anything
 * else, which is the page's own (GatewayWorker handed every frame to `Events::onMessage`).
 * Pure: no Workers APIs.
 */
import { NAME_RULE, isName, type RoomName } from "../../contract/names";
import { readFrameObject, type FrameError } from "../../contract/protocol";

export type GatewayClientFrame =
  /** Join a group the connection's token allows, or with `token` (a grant's join token); replay after `since`. */
  | { type: "join"; group: string; token?: string; since: number | null }
  | { type: "leave"; group: string }
  /** Like `/ws` publish: everyone in the group gets `{from, data}`. */
  | { type: "publish"; group: string; data: unknown; echo: boolean }
  /** GatewayWorker's onMessage: for the backend's webhook (`client_message`); no answer. */
  | { type: "message"; data: unknown }
  /**
   * Not an edgepush frame (not JSON, not an object, or another `type`: the seeds' `say`, `pong` …):
   * for the backend's webhook like `message`, `data` being the whole frame (its text when not JSON); no answer.
   */
  | { type: "other"; data: unknown };

/**
 * Parses a client text frame. A frame of one of edgepush's types with a wrong field is an error
 * frame's fields; a frame of no edgepush type is `other`.
 */
export function parseGatewayFrame(text: string): GatewayClientFrame | FrameError {
  const read = readFrameObject(text);
  if (!("frame" in read)) return { type: "other", data: frameData(text) };
  const { frame } = read;
  // edgepush's `{"type":"message","data":…}` hands the backend its data; a page's own `message`
  // frame without `data` (e.g. `{"type":"message","text":"hi"}`) is passed on whole, like any other.
  if (frame.type === "message") return "data" in frame ? { type: "message", data: frame.data } : { type: "other", data: frame };
  if (frame.type !== "join" && frame.type !== "leave" && frame.type !== "publish") return { type: "other", data: frame };
  if (!isName(frame.group)) return { error: "bad_frame", message: `group: expected a group name (${NAME_RULE})` };
  if (frame.type === "leave") return { type: "leave", group: frame.group };
  if (frame.type === "publish") {
    if (!("data" in frame)) return { error: "bad_frame", message: "publish needs data" };
    if (frame.echo !== undefined && typeof frame.echo !== "boolean") return { error: "bad_frame", message: "echo must be a boolean" };
    return { type: "publish", group: frame.group, data: frame.data, echo: frame.echo !== false };
  }
  if (frame.token !== undefined && (typeof frame.token !== "string" || frame.token === "")) {
    return { error: "bad_frame", message: "token: expected a client token string" };
  }
  const since = frame.since ?? null;
  if (since !== null && !(Number.isSafeInteger(since) && (since as number) >= 0)) {
    return { error: "bad_frame", message: "since: expected a non-negative integer seq" };
  }
  return { type: "join", group: frame.group, token: frame.token as string | undefined, since: since as number | null };
}

/** What the backend is told a frame said: its JSON value, or its text when it is not JSON. */
export function frameData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `{"type":"joined"}`: a subscription is in place; `seq` is the room's last (replayed rows follow). */
export function joinedFrame(room: RoomName, seq: number): string {
  return JSON.stringify({ type: "joined", room, ...roomField(room), seq });
}

/** `{"type":"left"}`: the connection no longer receives the room (it left, was removed, or unbound). */
export function leftFrame(room: RoomName): string {
  return JSON.stringify({ type: "left", room, ...roomField(room) });
}

function roomField(room: RoomName): { group: string } | { uid: string } {
  return room.startsWith("group:") ? { group: room.slice("group:".length) } : { uid: room.slice("uid:".length) };
}
