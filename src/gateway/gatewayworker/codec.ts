/** GatewayWorker mode on the wire: the init frame, then each push as its payload alone. Pure. */
import { envelope, type OutboundMessage } from "../../contract/protocol";
import type { GatewayAttachment, Subscription } from "../types";

/** What the seeds' `Events::onConnect` sends first. */
export function initFrame(clientId: string): string {
  return JSON.stringify({ type: "init", client_id: clientId });
}

/**
 * A push as this connection receives it: the payload text byte for byte (what GatewayWorker
 * sent), or with `format=envelope` the edgepush envelope plus the room it came from, so a
 * client holding one socket for many rooms can resume each by `since`.
 */
export function pushFrame(attachment: GatewayAttachment, sub: Subscription | null, seq: number, message: OutboundMessage): string {
  if (attachment.format === "raw") return message.raw;
  const text = envelope(seq, message);
  if (!sub) return text;
  return `{"room":${JSON.stringify(sub.room)},${text.slice(1)}`;
}
