/**
 * What a room does with a frame from one of its `/ws` sockets: the frame budget first (a flood
 * costs a lookup per frame), then size, then the frame itself (ack, message for the backend, publish).
 */
import { CLOSE_POLICY, CLOSE_TOO_BIG, errorFrame, parseClientFrame } from "../contract/protocol";
import { utf8Length } from "../util/text";
import type { SocketGuard } from "./guard";
import type { RateLimiter } from "./rate-limit";
import type { SocketMap } from "./roster";
import type { SocketAttachment } from "./types";

export interface FrameDeps {
  sockets: SocketMap;
  guard: SocketGuard;
  rates: RateLimiter<WebSocket>;
  maxFrameBytes: number;
  isGroupRoom(): boolean;
  /** A `{"type":"message"}` frame: for the backend's webhook, nothing to the socket. */
  tellBackend(attachment: SocketAttachment, data: unknown): void;
  publish(ws: WebSocket, attachment: SocketAttachment, data: unknown, echo: boolean): void;
}

export function readClientFrame(deps: FrameDeps, ws: WebSocket, message: string | ArrayBuffer): void {
  const attachment = deps.sockets.get(ws);
  if (!attachment) return deps.guard.afterClose(ws);
  // The seed's push.php ignored whatever a client sent after its uid.
  if (attachment.legacy) return;
  // Before anything else, so a flood costs a lookup per frame and one answer in all.
  const length = typeof message === "string" ? message.length : message.byteLength;
  if (!deps.guard.frame(ws, length, Date.now())) return;
  if (overLimit(message, length, deps.maxFrameBytes)) {
    ws.close(CLOSE_TOO_BIG, `frame over MAX_FRAME_BYTES (${deps.maxFrameBytes})`);
    deps.sockets.delete(ws, CLOSE_TOO_BIG);
    return;
  }
  if (typeof message !== "string") {
    return deps.guard.answer(ws, errorFrame("binary_not_supported", "send text frames: `ping` or a JSON object"));
  }
  const frame = parseClientFrame(message);
  if ("error" in frame) return deps.guard.answer(ws, errorFrame(frame.error, frame.message));
  if (frame.type === "ack") return deps.guard.acked(ws, frame.bytes, Date.now());
  if (frame.type === "message") {
    if (withinRate(deps, ws)) deps.tellBackend(attachment, frame.data);
    return;
  }
  if (!deps.isGroupRoom()) {
    return deps.guard.answer(ws, errorFrame("not_allowed", "publish works in group rooms; connect with &group=NAME"));
  }
  if (withinRate(deps, ws)) deps.publish(ws, attachment, frame.data, frame.echo);
}

/** Per-connection publish rate: over it an error frame, twice over it a 1008 close. */
function withinRate(deps: FrameDeps, ws: WebSocket): boolean {
  const verdict = deps.rates.hit(ws, Date.now());
  if (verdict === "ok") return true;
  if (verdict === "close") {
    deps.sockets.delete(ws, CLOSE_POLICY);
    ws.close(CLOSE_POLICY, "publish rate limit exceeded");
  } else {
    deps.guard.answer(ws, errorFrame("rate_limited", `at most ${deps.rates.limit} publishes per 10 s (PUBLISH_RATE_PER_10S)`));
  }
  return false;
}

// Bytes of a frame as UTF-8, encoded only when its length alone cannot tell (UTF-8 takes 1-3 bytes per UTF-16 unit).
function overLimit(message: string | ArrayBuffer, length: number, max: number): boolean {
  if (length > max) return true;
  return typeof message === "string" && length * 3 > max && utf8Length(message) > max;
}
