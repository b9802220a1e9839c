/**
 * GatewayWorker mode: the backend binds connections (bindUid, joinGroup … over HTTP), the
 * client only receives. Client frames: `ping` (answered by the runtime), `{"type":"message"}`
 * (for backend hooks), and, for edgepush's own client library, `join`/`leave` with a token.
 */
import { errorFrame } from "../../contract/protocol";
import type { ProtocolHandler } from "../protocol";
import { initFrame, pushFrame } from "./codec";

export const gatewayWorkerHandler: ProtocolHandler = {
  opened(host, ws, attachment) {
    host.send(ws, initFrame(attachment.id));
  },

  async message(host, ws, _attachment, text) {
    // The seeds' pages send nothing but pings; anything else is answered, never fatal.
    host.send(ws, errorFrame("unknown_type", `unexpected frame ${JSON.stringify(text.slice(0, 64))}: this connection only receives`));
  },

  frame(attachment, sub, item) {
    return pushFrame(attachment, sub, item.seq, item.message);
  },
};
