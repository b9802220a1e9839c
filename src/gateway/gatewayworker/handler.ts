/**
 * GatewayWorker mode: the backend binds connections (bindUid, joinGroup … over HTTP), the
 * client only receives. Client frames: `ping` (answered by the runtime), `{"type":"message"}`
 * (for backend hooks), and, for edgepush's own client library, `join`/`leave` with a token.
 */
import { PING, PONG, errorFrame } from "../../contract/protocol";
import type { ProtocolHandler } from "../protocol";
import { initFrame, pushFrame } from "./codec";

export const gatewayWorkerHandler: ProtocolHandler = {
  opened(host, ws, attachment) {
    host.send(ws, initFrame(attachment.id));
  },

  async message(host, ws, _attachment, text) {
    if (text === PING) return void host.send(ws, PONG);
    const frame = parseMessageFrame(text);
    // GatewayWorker's onMessage: the backend hears it through its webhook.
    if (frame) return host.tellBackend(ws, frame.data);
    host.send(ws, errorFrame("unknown_type", `unexpected frame ${JSON.stringify(text.slice(0, 64))}: send ping or {"type":"message","data":…}`));
  },

  frame(attachment, sub, item) {
    return pushFrame(attachment, sub, item.seq, item.message);
  },
};

function parseMessageFrame(text: string): { data: unknown } | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "message") {
      return { data: (value as { data?: unknown }).data ?? null };
    }
  } catch {
    // not JSON: answered as an unexpected frame
  }
  return null;
}
