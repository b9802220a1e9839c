/** Sending one message to many sockets of a room. */
import { envelope, type OutboundMessage } from "../contract/protocol";
import type { SocketAttachment } from "./types";

export interface FanOutOptions {
  /** clientIds that must not receive it (`exclude` of a group push). */
  exclude?: Set<string>;
  /** The publishing socket when it asked for `echo: false`. */
  skip?: WebSocket;
  /** Called for a socket whose send threw; the fan-out goes on. */
  onBroken: (ws: WebSocket, err: unknown) => void;
  /** Called after each send with the frame's length (what the socket now has queued more). */
  onSent?: (ws: WebSocket, length: number) => void;
}

/**
 * Sends `message` to each open socket of `targets` known to `sockets`; the envelope is built
 * once, not per socket. Returns how many sockets it was handed to.
 */
export function fanOut(
  sockets: ReadonlyMap<WebSocket, SocketAttachment>,
  targets: Iterable<WebSocket>,
  seq: number,
  message: OutboundMessage,
  options: FanOutOptions,
): number {
  let envelopeText: string | undefined;
  let delivered = 0;
  for (const ws of targets) {
    const attachment = sockets.get(ws);
    if (!attachment || ws === options.skip || options.exclude?.has(attachment.clientId)) continue;
    if (ws.readyState !== WebSocket.OPEN) continue;
    try {
      const text = attachment.format === "raw" || attachment.legacy ? message.raw : (envelopeText ??= envelope(seq, message));
      ws.send(text);
      delivered++;
      options.onSent?.(ws, text.length);
    } catch (err) {
      options.onBroken(ws, err);
    }
  }
  return delivered;
}
